"""Usage of a project over a period, derived from billing's facts.

Every interval is clipped to the period [since, until); a pod still running, a volume not
deleted and an allocation not released count up to `now` (or `until` when that is earlier).
Sums are exact integers (millicore-microseconds, byte-microseconds, device-microseconds) and
are converted to the reported units once, at the end:

    cpu_core_seconds        requested and Kata overhead apart
    memory_gib_seconds      requested and Kata overhead apart
    gpu_seconds             per GPU model, from the pods that asked for GPUs (charged)
    storage_gib_seconds     per StorageClass
    gpu_allocation_seconds  per model, from gpu.* events (informational: the devices are
                            charged once, through the pods that hold them)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from services.billing.models import GpuChange, PodInterval, VolumeChange

MICROSECOND = timedelta(microseconds=1)
US_PER_S = 10**6
GIB = 2**30
PLACES = Decimal("0.000001")


@dataclass
class Totals:
    """Exact integer sums of one project over one period."""

    cpu_mc_us: int = 0
    overhead_cpu_mc_us: int = 0
    memory_b_us: int = 0
    overhead_memory_b_us: int = 0
    gpu_us: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    storage_b_us: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    gpu_allocation_us: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def overlap_us(start: datetime, end: datetime | None, since: datetime, until: datetime) -> int:
    """Microseconds of [start, end) inside [since, until); `end` None means `until`."""
    low = max(start, since)
    high = min(end or until, until)
    return max((high - low) // MICROSECOND, 0)


def _add_pods(totals: Totals, pods: Iterable[PodInterval], since: datetime, until: datetime):
    for pod in pods:
        if pod.started_at is None:
            continue  # its start has not arrived yet; it is charged once it does
        us = overlap_us(pod.started_at, pod.stopped_at, since, until)
        totals.cpu_mc_us += pod.cpu_millicores * us
        totals.overhead_cpu_mc_us += pod.overhead_cpu_millicores * us
        totals.memory_b_us += pod.memory_bytes * us
        totals.overhead_memory_b_us += pod.overhead_memory_bytes * us
        if pod.gpu_count and us:
            totals.gpu_us[pod.gpu_model or "unknown"] += pod.gpu_count * us


def _segments(changes: list[Any], since: datetime, until: datetime):
    """(change, microseconds in the period) for each step of one object's history."""
    changes.sort(key=lambda change: (change.at, change.event_id))
    for index, change in enumerate(changes):
        end = changes[index + 1].at if index + 1 < len(changes) else None
        yield change, overlap_us(change.at, end, since, until)


def _by_key(rows: Iterable[Any], attribute: str) -> dict[str, list[Any]]:
    grouped: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[getattr(row, attribute)].append(row)
    return grouped


def totals(session: Session, project_id: str, since: datetime, until: datetime) -> Totals:
    """`until` must already be clipped to now by the caller."""
    result = Totals()
    pods = session.scalars(
        select(PodInterval).where(
            PodInterval.project_id == project_id,
            PodInterval.started_at < until,
            or_(PodInterval.stopped_at.is_(None), PodInterval.stopped_at > since),
        )
    )
    _add_pods(result, pods, since, until)

    volumes = session.scalars(select(VolumeChange).where(VolumeChange.project_id == project_id))
    for changes in _by_key(volumes, "volume_key").values():
        for change, us in _segments(changes, since, until):
            result.storage_b_us[change.storage_class] += change.size_bytes * us

    allocations = session.scalars(select(GpuChange).where(GpuChange.project_id == project_id))
    for changes in _by_key(allocations, "allocation_key").values():
        for change, us in _segments(changes, since, until):
            result.gpu_allocation_us[change.model] += change.count * us
    return result


def _units(value: int, scale: int) -> Decimal:
    return (Decimal(value) / Decimal(scale)).quantize(PLACES)


def quantities(sums: Totals) -> dict[str, Decimal]:
    """Metric name -> exact quantity (six decimal places), the keys rates are priced by."""
    values = {
        "cpu_core_seconds": _units(sums.cpu_mc_us, 1000 * US_PER_S),
        "cpu_overhead_core_seconds": _units(sums.overhead_cpu_mc_us, 1000 * US_PER_S),
        "memory_gib_seconds": _units(sums.memory_b_us, GIB * US_PER_S),
        "memory_overhead_gib_seconds": _units(sums.overhead_memory_b_us, GIB * US_PER_S),
    }
    for model, us in sorted(sums.gpu_us.items()):
        values[f"gpu_seconds.{model}"] = _units(us, US_PER_S)
    for storage_class, b_us in sorted(sums.storage_b_us.items()):
        values[f"storage_gib_seconds.{storage_class}"] = _units(b_us, GIB * US_PER_S)
    return values


def report(sums: Totals) -> dict[str, Any]:
    """The usage answer: requested and overhead apart, per model and per class."""
    q = quantities(sums)
    return {
        "cpu_core_seconds": {
            "requested": float(q["cpu_core_seconds"]),
            "overhead": float(q["cpu_overhead_core_seconds"]),
        },
        "memory_gib_seconds": {
            "requested": float(q["memory_gib_seconds"]),
            "overhead": float(q["memory_overhead_gib_seconds"]),
        },
        "gpu_seconds": {m: float(_units(us, US_PER_S)) for m, us in sorted(sums.gpu_us.items())},
        "storage_gib_seconds": {
            c: float(_units(b, GIB * US_PER_S)) for c, b in sorted(sums.storage_b_us.items())
        },
        "gpu_allocation_seconds": {
            m: float(_units(us, US_PER_S)) for m, us in sorted(sums.gpu_allocation_us.items())
        },
    }


def projects_with_usage(session: Session, since: datetime, until: datetime) -> list[str]:
    """Every project that has a fact touching the period (for the cloud admin's view)."""
    found: set[str] = set()
    found.update(
        session.scalars(
            select(PodInterval.project_id)
            .where(
                PodInterval.started_at < until,
                or_(PodInterval.stopped_at.is_(None), PodInterval.stopped_at > since),
            )
            .distinct()
        )
    )
    found.update(session.scalars(select(VolumeChange.project_id).distinct()))
    found.update(session.scalars(select(GpuChange.project_id).distinct()))
    return sorted(found)
