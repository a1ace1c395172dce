"""Helpers of the event-pipeline tests (audit, billing, pipeline): real broker, real databases.

- `Vhost`: a fresh vhost on a RabbitMQ node through its management API (removed on exit);
- `publish_all`: confirmed publishes with the relay's own `EventPublisher`;
- `wait_until`: polls a condition with a deadline (no fixed sleeps);
- `count_rows`: reads a table of a service's database, the way an operator would.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import requests
from sqlalchemy import text

from shared.db import Database
from shared.outbox import EventPublisher

MANAGEMENT = "http://127.0.0.1:15672/api"
GUEST = ("guest", "guest")


@contextmanager
def vhost(management: str = MANAGEMENT, port: int = 5672) -> Iterator[str]:
    """A fresh vhost; yields its AMQP URI."""
    name = f"scs-t-{uuid.uuid4().hex[:10]}"
    requests.put(f"{management}/vhosts/{name}", auth=GUEST, timeout=10).raise_for_status()
    requests.put(
        f"{management}/permissions/{name}/guest",
        json={"configure": ".*", "write": ".*", "read": ".*"},
        auth=GUEST,
        timeout=10,
    ).raise_for_status()
    try:
        yield f"pyamqp://guest:guest@127.0.0.1:{port}/{name}"
    finally:
        requests.delete(f"{management}/vhosts/{name}", auth=GUEST, timeout=10)


def publish_all(amqp_uri: str, envelopes: Iterable[dict[str, Any]]) -> int:
    publisher = EventPublisher(amqp_uri)
    sent = 0
    try:
        for envelope in envelopes:
            publisher.publish(envelope)
            sent += 1
    finally:
        publisher.close()
    return sent


def wait_until(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = condition()
        if last:
            return last
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what} (last: {last!r})")


def drop_databases(factory: Any, attempts: int = 10) -> None:
    """`DatabaseFactory.drop_all`, retried while PostgreSQL's autovacuum holds a database
    (DROP ... WITH (FORCE) may not end a superuser's backend: InsufficientPrivilege)."""
    from sqlalchemy.exc import ProgrammingError

    for attempt in range(attempts):
        try:
            factory.drop_all()
            return
        except ProgrammingError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.5)


def count_rows(url: str, table: str, where: str = "1=1", **params: Any) -> int:
    with Database(url).engine.connect() as conn:
        return int(
            conn.execute(text(f"SELECT count(*) FROM {table} WHERE {where}"), params).scalar()
        )
