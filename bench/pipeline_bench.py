"""The event pipeline end to end: outbox -> relay (publisher confirms) -> broker -> audit row.

Two measurements against an AuditService and an outbox relay running in this process on the
real broker and database:
- throughput: BURST events committed to an outbox at once (batches of 100 per transaction);
  events per second = BURST / (last audit row's recorded_at - first event's occurred_at).
  Baseline: the same events stored straight into the audit database through recorder.py,
  without the bus (what the audit's database alone could take).
- lag: PACED events committed one per transaction at about 100 per second; the lag of each is
  its audit row's recorded_at minus its occurred_at (median and p99).

The caller must have run `eventlet.monkey_patch()` (bench/__main__.py does).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import eventlet
from sqlalchemy import Index, text
from sqlalchemy.orm import DeclarativeBase

from bench.stats import latency_row
from shared.db import Database, migrate
from shared.events import OutboxMixin, new_event, record_event
from shared.health import HealthRpc
from shared.outbox import OutboxRelay

BURST = 2000
PACED = 300
BATCH = 100


class _Base(DeclarativeBase):
    pass


class BenchOutbox(OutboxMixin, _Base):
    __table_args__ = (
        Index(
            "ix_bench_outbox_unpublished",
            "seq",
            postgresql_where=text("published_at IS NULL"),
            sqlite_where=text("published_at IS NULL"),
        ),
    )


class BenchEmitter(HealthRpc):
    """A service that only relays its outbox, as every event-writing service does."""

    name = "pipeline_bench"

    relay = OutboxRelay("pipeline_bench", BenchOutbox, interval=0.05)


def _event(index: int) -> dict[str, Any]:
    return new_event(
        "workload.updated",
        actor="bench",
        project="bench-project",
        resource={"kind": "Deployment", "namespace": "bench", "name": f"w-{index}"},
        data={"revision": index},
    )


def _write(outbox: Database, count: int, batch: int, pause: float) -> list[str]:
    ids = []
    for start in range(0, count, batch):
        with outbox.transaction() as session:
            for index in range(start, min(start + batch, count)):
                envelope = _event(index)
                record_event(session, BenchOutbox, envelope)
                ids.append(envelope["id"])
        if pause:
            eventlet.sleep(pause)
    return ids


def _times(audit: Database, ids: list[str]) -> list[tuple[datetime, datetime]]:
    from sqlalchemy import bindparam

    query = text(
        "SELECT occurred_at, recorded_at FROM audit_records WHERE event_id IN :ids"
    ).bindparams(bindparam("ids", expanding=True))
    with audit.engine.connect() as conn:
        rows = conn.execute(query, {"ids": ids}).all()
    return [(_aware(a), _aware(b)) for a, b in rows]


def _aware(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)  # SQLite keeps naive UTC


def _wait(audit: Database, ids: list[str], timeout: float) -> list[tuple[datetime, datetime]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        times = _times(audit, ids)
        if len(times) == len(ids):
            return times
        eventlet.sleep(0.2)
    raise TimeoutError(f"audit holds {len(_times(audit, ids))} of {len(ids)} events")


def _baseline_rate(audit_url: str) -> float:
    from services.audit import recorder

    audit = Database(audit_url)
    envelopes = [recorder.parse_envelope(_event(i)) for i in range(BURST)]
    began = time.perf_counter()
    for envelope in envelopes:
        with audit.transaction() as session:
            recorder.store_event(session, envelope)  # type: ignore[arg-type]
    return BURST / (time.perf_counter() - began)


def run(amqp_uri: str, audit_url: str, outbox_url: str, baseline_url: str) -> list[dict]:
    from nameko.runners import ServiceRunner

    from services.audit.service import AuditService

    migrate("audit", audit_url)
    migrate("audit", baseline_url)
    outbox = Database(outbox_url)
    _Base.metadata.create_all(outbox.engine)
    config = {
        "AMQP_URI": amqp_uri,
        "AUDIT_DATABASE_URL": audit_url,
        "PIPELINE_BENCH_DATABASE_URL": outbox_url,
        "max_workers": 20,
    }
    runner = ServiceRunner(config)
    runner.add_service(AuditService)
    runner.add_service(BenchEmitter)
    runner.start()
    try:
        eventlet.sleep(1.0)  # the audit's queue is bound before the first event
        audit = Database(audit_url)
        burst = _wait(audit, _write(outbox, BURST, BATCH, 0), 120)
        paced = _wait(audit, _write(outbox, PACED, 1, 0.01), 60)
    finally:
        runner.stop()

    span = (max(r for _, r in burst) - min(o for o, _ in burst)).total_seconds()
    rate = BURST / span
    baseline = _baseline_rate(baseline_url)
    lags = [(recorded - occurred).total_seconds() for occurred, recorded in paced]
    return [
        {
            "benchmark": "pipeline outbox -> broker -> audit row",
            "metric": "events/s",
            "value": round(rate, 1),
            "baseline": "recorder.store_event in-process, no bus",
            "baseline_value": round(baseline, 1),
            "ratio": round(rate / baseline, 2),
            "samples": BURST,
        },
        *latency_row("pipeline lag at ~100 events/s (occurred -> audit row)", lags, None),
    ]
