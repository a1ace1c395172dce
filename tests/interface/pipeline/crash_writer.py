"""A quota service process that dies at the worst moment (run as a script by the tests).

    python tests/interface/pipeline/crash_writer.py after-commit <quota-db-url> <project>
        commits a limit change and its event (the quota service's own ledger code, one
        transaction), then SIGKILLs itself before any relay ran;
    python tests/interface/pipeline/crash_writer.py after-publish <quota-db-url> <amqp-uri>
        publishes the pending events with the relay's publisher and SIGKILLs itself before
        marking them published (the database transaction never commits).

It prints the event ids it handled, one per line, before dying.
"""

from __future__ import annotations

import os
import signal
import sys

from sqlalchemy import select

from services.quota import ledger
from services.quota.models import OutboxEvent
from shared.db import Database
from shared.outbox import EventPublisher


def after_commit(url: str, project: str) -> None:
    database = Database(url)
    with database.transaction() as session:
        ledger.set_limits(session, project, {"cpu": 4000}, "crash-test")
    with database.transaction() as session:
        pending = session.scalars(select(OutboxEvent).where(OutboxEvent.published_at.is_(None)))
        print("\n".join(row.event_id for row in pending), flush=True)


def after_publish(url: str, amqp_uri: str) -> None:
    database = Database(url)
    publisher = EventPublisher(amqp_uri)
    with database.transaction() as session:
        pending = session.scalars(select(OutboxEvent).where(OutboxEvent.published_at.is_(None)))
        for row in pending:
            publisher.publish(row.payload)  # confirmed by the broker
            print(row.event_id, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)  # before the rows are marked published


if __name__ == "__main__":
    mode, url, extra = sys.argv[1:4]
    if mode == "after-commit":
        after_commit(url, extra)
    else:
        after_publish(url, extra)
    os.kill(os.getpid(), signal.SIGKILL)
