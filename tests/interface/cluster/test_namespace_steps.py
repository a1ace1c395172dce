"""The namespace setup handshake on the real PostgreSQL, with steps answering concurrently.

Real: PostgreSQL (a fresh database), the cluster service's migrations and namespaces module.
Nothing is faked; green threads (psycopg2 cooperates with eventlet) play two setup services
whose `namespace.setup_done` events are handled at the same moment.
"""

import eventlet
import pytest
from sqlalchemy import select

from services.cluster import namespaces as ns
from services.cluster.models import READY, ManagedNamespace, OutboxEvent
from shared import db

pytestmark = pytest.mark.interface

ROUNDS = 15


def test_concurrent_steps_make_every_namespace_ready_exactly_once(postgres_url):
    db.migrate("cluster", postgres_url)
    database = db.Database(postgres_url)
    names = [f"ns-{i}" for i in range(ROUNDS)]
    with database.transaction() as session:
        for name in names:
            created = {"metadata": {"name": name, "uid": f"uid-{name}"}}
            ns.record_created(session, created, "p1", "u1")

    def answer(name: str, step: str) -> None:
        with database.transaction() as session:
            ns.record_step(session, name, step, None, ("quota", "network"))
            eventlet.sleep(0.01)  # hold the transaction open while the other step arrives

    for name in names:
        pool = [eventlet.spawn(answer, name, step) for step in ("quota", "network")]
        for thread in pool:
            thread.wait()

    with database.transaction() as session:
        statuses = {row.name: row.status for row in session.scalars(select(ManagedNamespace))}
        ready_events = session.scalars(
            select(OutboxEvent).where(OutboxEvent.event_type == "namespace.ready")
        ).all()
    assert statuses == dict.fromkeys(names, READY)
    assert sorted(e.payload["data"]["name"] for e in ready_events) == sorted(names)
