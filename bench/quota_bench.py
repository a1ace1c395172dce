"""Quota reservations per second over RPC with 20 concurrent clients, against the ledger.

The value: 400 reservations from 20 standalone RPC clients (one proxy each, as nameko
requires) against a QuotaService container started in this process; every reservation locks
the project's row, so they are serialised per project as in production.
The baseline: the same 400 reservations through ledger.py in this process, one transaction
each, without RPC. The ratio value / baseline shows what the RPC layer and the worker pool cost
(or gain, through parallel transactions, on PostgreSQL).

The caller must have run `eventlet.monkey_patch()` (bench/__main__.py does).
"""

from __future__ import annotations

import time
import uuid
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import eventlet

CLIENTS = 20
RESERVATIONS = 400
ITEMS = {"cpu": {"requested": 100, "overhead": 25}, "count.pods": {"requested": 1}}


def run(amqp_uri: str, database_url: str) -> list[dict[str, Any]]:
    from shared.db import migrate

    database_url = _psycopg2(database_url)
    migrate("quota", database_url)
    baseline = _ledger_rate(database_url)
    value = _rpc_rate(amqp_uri, database_url)
    return [
        {
            "benchmark": f"quota reserve, {CLIENTS} clients",
            "metric": "reservations/s",
            "value": round(value, 1),
            "baseline": "ledger.reserve in-process, no RPC",
            "baseline_value": round(baseline, 1),
            "ratio": round(value / baseline, 2),
            "samples": RESERVATIONS,
        }
    ]


def _ledger_rate(database_url: str) -> float:
    from services.quota import ledger
    from shared.db import Database

    database = Database(database_url)
    project = _new_project(database)

    started = time.perf_counter()
    for index in range(RESERVATIONS):
        with database.transaction() as session:
            ledger.reserve(session, project, f"{project}-{index}", ITEMS, "bench", 600)
    return RESERVATIONS / (time.perf_counter() - started)


def _rpc_rate(amqp_uri: str, database_url: str) -> float:
    from nameko.containers import ServiceContainer
    from nameko.standalone.rpc import ServiceRpcProxy

    from services.quota.service import QuotaService
    from shared.config import nameko_config
    from shared.db import Database

    config = {
        **nameko_config(),
        "AMQP_URI": amqp_uri,
        "QUOTA_DATABASE_URL": database_url,
        "max_workers": CLIENTS,
    }
    project = _new_project(Database(database_url))
    container = ServiceContainer(QuotaService, config)
    container.start()
    try:
        ready = eventlet.event.Event()
        go = eventlet.event.Event()
        connected: list[int] = []
        per_client = RESERVATIONS // CLIENTS

        def client(number: int) -> None:
            with ServiceRpcProxy("quota", config, timeout=60) as quota:
                quota.health()  # connected and warm before the clock starts
                connected.append(number)
                if len(connected) == CLIENTS:
                    ready.send()
                go.wait()
                for index in range(per_client):
                    quota.reserve(project, f"{project}-rpc-{number}-{index}", ITEMS, "bench", 600)

        pool = eventlet.GreenPool(CLIENTS)
        for number in range(CLIENTS):
            pool.spawn(client, number)
        ready.wait()
        started = time.perf_counter()
        go.send()
        pool.waitall()
        return per_client * CLIENTS / (time.perf_counter() - started)
    finally:
        container.stop()


def _new_project(database: Any) -> str:
    """A fresh project with limits high enough for every reservation of the run."""
    from services.quota import ledger

    project = f"bench-{uuid.uuid4().hex[:8]}"
    with database.transaction() as session:
        ledger.set_limits(
            session, project, {"cpu": 125 * RESERVATIONS, "count.pods": RESERVATIONS}, "bench"
        )
    return project


def _psycopg2(url: str) -> str:
    # SQLAlchemy 2.1 maps postgresql:// to psycopg 3; the suite runs psycopg2 (eventlet-green).
    parts = urlsplit(url)
    if parts.scheme != "postgresql":
        return url
    return urlunsplit(parts._replace(scheme="postgresql+psycopg2"))


if __name__ == "__main__":  # pragma: no cover - a manual run: python -m bench.quota_bench
    import os
    import sys

    eventlet.monkey_patch()
    amqp = os.environ.get("SCS_AMQP_URI", "pyamqp://guest:guest@127.0.0.1:5672/")
    url = sys.argv[1] if len(sys.argv) > 1 else "sqlite:////tmp/scs-quota-bench.sqlite3"
    for row in run(amqp, url):
        print(row)
