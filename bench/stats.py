"""Small helpers for timing: percentiles and a result row."""

from __future__ import annotations

import statistics
from typing import Any


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def latency_row(
    name: str, samples_s: list[float], baseline_s: list[float] | None, baseline_name: str = ""
) -> list[dict[str, Any]]:
    """Median and p99 in milliseconds; with a baseline, the ratio value / baseline."""
    rows = []
    for label, fraction in (("median", 0.5), ("p99", 0.99)):
        value = (
            statistics.median(samples_s) if fraction == 0.5 else percentile(samples_s, fraction)
        ) * 1000
        row: dict[str, Any] = {
            "benchmark": name,
            "metric": f"{label} ms",
            "value": round(value, 3),
            "baseline": None,
            "baseline_value": None,
            "ratio": None,
            "samples": len(samples_s),
        }
        if baseline_s:
            base = (
                statistics.median(baseline_s)
                if fraction == 0.5
                else percentile(baseline_s, fraction)
            ) * 1000
            row.update(
                baseline=baseline_name,
                baseline_value=round(base, 3),
                ratio=round(value / base, 2) if base else None,
            )
        rows.append(row)
    return rows
