"""`make bench`: every benchmark of the suite, printed as one table and saved as JSON.

Runs against the real RabbitMQ (its own vhost, made and removed here) and the real PostgreSQL
when SCS_BENCH_POSTGRES_URL (default: the local test server) answers, else SQLite files.
"""

from __future__ import annotations

import eventlet

eventlet.monkey_patch()

import json  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import uuid  # noqa: E402
from contextlib import ExitStack, contextmanager  # noqa: E402
from typing import Any  # noqa: E402
from urllib.parse import urlsplit, urlunsplit  # noqa: E402

import requests  # noqa: E402
import sqlalchemy  # noqa: E402
from nameko.testing.utils import find_free_port  # noqa: E402

from bench import (  # noqa: E402
    cli_bench,
    cluster_overview_bench,
    gateway_bench,
    gpu_bench,
    namespace_setup_bench,
    network_bench,
    pipeline_bench,
    quota_bench,
    rpc_bench,
    stream_bench,
)
from runner.embedded import embedded_suite  # noqa: E402
from shared.db import normalise_url  # noqa: E402

MANAGEMENT = "http://127.0.0.1:15672/api"
POSTGRES = os.environ.get("SCS_BENCH_POSTGRES_URL", "postgresql://scs:scs@127.0.0.1:5432/scs_test")
RESULTS = os.environ.get("SCS_BENCH_RESULTS", "bench-results.json")


@contextmanager
def vhost():
    name = f"scs-bench-{uuid.uuid4().hex[:8]}"
    auth = ("guest", "guest")
    requests.put(f"{MANAGEMENT}/vhosts/{name}", auth=auth, timeout=10).raise_for_status()
    requests.put(
        f"{MANAGEMENT}/permissions/{name}/guest",
        auth=auth,
        timeout=10,
        json={"configure": ".*", "write": ".*", "read": ".*"},
    ).raise_for_status()
    try:
        yield f"pyamqp://guest:guest@127.0.0.1:5672/{name}"
    finally:
        requests.delete(f"{MANAGEMENT}/vhosts/{name}", auth=auth, timeout=10)


@contextmanager
def database(tag: str):
    try:
        admin = sqlalchemy.create_engine(normalise_url(POSTGRES), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            name = f"scs_bench_{tag}_{uuid.uuid4().hex[:8]}"
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sqlalchemy.exc.OperationalError:
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/{tag}.sqlite3"
        return
    try:
        yield urlunsplit(urlsplit(normalise_url(POSTGRES))._replace(path=f"/{name}"))
    finally:
        from shared import db

        for url, engine in list(db._engines.items()):
            if name in url:
                engine.dispose()
                db._engines.pop(url)
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def print_table(rows: list[dict[str, Any]]) -> None:
    headers = ["benchmark", "metric", "value", "baseline", "baseline_value", "ratio"]
    table = [[str(row.get(h) if row.get(h) is not None else "-") for h in headers] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in table)) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    print(line)
    print("-" * len(line))
    for r in table:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))


def workload_rows(amqp_uri: str, stack: ExitStack) -> list[dict[str, Any]]:
    """The workload benchmarks, on a suite that includes the workload service."""
    from bench import workload_bench
    from services.auth.bootstrap import bootstrap_admin

    config = {
        "AMQP_URI": amqp_uri,
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{find_free_port()}",
        "AUTH_DATABASE_URL": stack.enter_context(database("wl_auth")),
        "QUOTA_DATABASE_URL": stack.enter_context(database("wl_quota")),
        "WORKLOAD_DATABASE_URL": stack.enter_context(database("wl_workload")),
        "max_workers": 20,
    }
    with embedded_suite(["auth", "quota", "workload", "gateway"], config):
        bootstrap_admin(config["AUTH_DATABASE_URL"], "bench-admin", "bench-password-1")
        base = f"http://{config['WEB_SERVER_ADDRESS']}"
        login = requests.post(
            f"{base}/api/v1/auth/login",
            timeout=10,
            json={"username": "bench-admin", "password": "bench-password-1"},
        )
        login.raise_for_status()
        return workload_bench.run(base, login.json()["token"], amqp_uri)


def main() -> int:
    logging.basicConfig(level=logging.WARNING)
    rows: list[dict[str, Any]] = []
    with ExitStack() as stack:
        amqp_uri = stack.enter_context(vhost())
        rows += rpc_bench.run(amqp_uri)
        rows += stream_bench.run(amqp_uri)

        config = {
            "AMQP_URI": amqp_uri,
            "WEB_SERVER_ADDRESS": f"127.0.0.1:{find_free_port()}",
            "AUTH_DATABASE_URL": stack.enter_context(database("auth")),
            "QUOTA_DATABASE_URL": stack.enter_context(database("quota")),
            "max_workers": 20,
        }
        from services.auth.bootstrap import bootstrap_admin

        with embedded_suite(["auth", "quota", "gateway"], config):
            bootstrap_admin(config["AUTH_DATABASE_URL"], "bench-admin", "bench-password-1")
            base = f"http://{config['WEB_SERVER_ADDRESS']}"
            login = requests.post(
                f"{base}/api/v1/auth/login",
                timeout=10,
                json={
                    "username": "bench-admin",
                    "password": "bench-password-1",
                },
            )
            login.raise_for_status()
            rows += gateway_bench.run(base, login.json()["token"])
            rows += cli_bench.run(base, login.json()["token"])

        rows += quota_bench.run(amqp_uri, stack.enter_context(database("quota_bench")))
        rows += pipeline_bench.run(
            amqp_uri,
            stack.enter_context(database("pipeline_audit")),
            stack.enter_context(database("pipeline_outbox")),
            stack.enter_context(database("pipeline_baseline")),
        )
        rows += workload_rows(amqp_uri, stack)
        rows += gpu_bench.run()
        rows += cluster_overview_bench.run()
        databases = {
            name: stack.enter_context(database(f"ns_{name}"))
            for name in ("auth", "quota", "cluster", "network")
        }
        rows += namespace_setup_bench.run(amqp_uri, databases)
        rows += network_bench.run(amqp_uri, stack.enter_context(database("network_bench")))

    print_table(rows)
    with open(RESULTS, "w") as handle:
        json.dump({"results": rows}, handle, indent=2)
    print(f"\nwritten to {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
