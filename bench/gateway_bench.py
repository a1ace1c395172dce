"""An authenticated gateway GET: HTTP, token check over RPC, answer."""

from __future__ import annotations

import time
from typing import Any

import requests

from bench.stats import latency_row

CALLS = 300


def run(base_url: str, token: str, healthz_baseline: bool = True) -> list[dict[str, Any]]:
    session = requests.Session()
    headers = {"Authorization": f"Bearer {token}"}

    def timed(path: str, with_token: bool) -> list[float]:
        session.get(base_url + path, headers=headers if with_token else {}, timeout=10)
        samples = []
        for _ in range(CALLS):
            started = time.perf_counter()
            response = session.get(
                base_url + path, headers=headers if with_token else {}, timeout=10
            )
            samples.append(time.perf_counter() - started)
            response.raise_for_status()
        return samples

    baseline = timed("/healthz", with_token=False) if healthz_baseline else None
    samples = timed("/api/v1/auth/whoami", with_token=True)
    return latency_row(
        "gateway GET /auth/whoami (authenticated)",
        samples,
        baseline,
        "unauthenticated GET /healthz",
    )
