"""`scs get projects` as a user runs it (a new process: interpreter, imports, one HTTP call,
table) against the same authenticated GET made from an already running Python client."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

from bench.stats import latency_row

CALLS = 20
REPO = Path(__file__).resolve().parents[1]


def run(base_url: str, token: str) -> list[dict[str, Any]]:
    session = requests.Session()
    headers = {"Authorization": f"Bearer {token}"}
    baseline = []
    for _ in range(CALLS):
        started = time.perf_counter()
        session.get(f"{base_url}/api/v1/projects", headers=headers, timeout=10).raise_for_status()
        baseline.append(time.perf_counter() - started)

    samples = []
    with tempfile.TemporaryDirectory() as config_dir:
        env = {**os.environ, "SCS_SERVER": base_url, "SCS_TOKEN": token}
        env["SCS_CONFIG_DIR"] = config_dir
        for _ in range(CALLS):
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "cli", "get", "projects"],
                cwd=REPO,
                env=env,
                check=True,
                capture_output=True,
                timeout=60,
            )
            samples.append(time.perf_counter() - started)
    return latency_row(
        "CLI `scs get projects` (new process)",
        samples,
        baseline,
        "GET /projects from a running client",
    )
