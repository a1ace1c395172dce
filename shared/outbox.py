"""The outbox relay: publishes committed events with publisher confirms, in order.

Runs as a nameko dependency in every service that records events. It reads the service's
`outbox` rows that are not yet published, oldest first, publishes each on `scs.events` with the
broker's confirm, and only then marks the row published. It runs as soon as a transaction of
this process that recorded an event commits (shared.events.on_outbox_commit), and otherwise
every `POLL_SECONDS`, for events written by other processes. A crash between the database commit
and the publish leaves the row unpublished, so the next relay run sends it: delivery is
at-least-once and subscribers deduplicate on the event id.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import eventlet
from eventlet.queue import Empty, Full, LightQueue
from kombu import Connection, Exchange, Producer
from nameko.extensions import DependencyProvider
from sqlalchemy import select, text

from shared.config import Settings, database_url
from shared.db import Database
from shared.events import EVENT_EXCHANGE, on_outbox_commit

logger = logging.getLogger(__name__)

BATCH_SIZE = 200
# Without a wake-up (events committed by another process): how often the relay looks.
POLL_SECONDS = 0.5
# pg advisory lock held by the relay of a database's outbox for one transaction.
RELAY_LOCK_KEY = 0x5C5_0B0


def event_exchange() -> Exchange:
    # Same declaration as nameko's own event exchanges, so nameko handlers can bind to it.
    return Exchange(EVENT_EXCHANGE, type="topic", durable=True, delivery_mode=2)


class EventPublisher:
    """A confirmed publisher on the event exchange (one per relay greenthread)."""

    def __init__(self, amqp_uri: str) -> None:
        self.amqp_uri = amqp_uri
        self._connection: Connection | None = None
        self._producer: Producer | None = None

    def _ensure(self) -> Producer:
        if self._producer is None:
            self._connection = Connection(
                self.amqp_uri, transport_options={"confirm_publish": True}, heartbeat=0
            )
            channel = self._connection.channel()
            exchange = event_exchange()
            exchange(channel).declare()
            self._producer = Producer(channel, exchange=exchange)
        return self._producer

    def publish(self, envelope: dict[str, Any]) -> None:
        """Publish and wait for the broker's confirm; raises when the broker refuses."""
        try:
            self._ensure().publish(
                envelope,
                routing_key=envelope["type"],
                serializer="json",
                delivery_mode=2,
                message_id=envelope["id"],
                retry=False,
            )
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.release()
            except Exception:  # the connection is already broken; nothing to release
                logger.debug("closing a broken publisher connection", exc_info=True)
        self._connection = None
        self._producer = None


def relay_once(database: Database, outbox_model: Any, publisher: EventPublisher) -> int:
    """Publish pending events oldest first; returns how many were published.

    Stops at the first failure so that events of one resource never overtake each other.
    """
    published = 0
    with database.transaction() as session:
        if database.dialect == "postgresql" and not session.scalar(
            text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": RELAY_LOCK_KEY}
        ):
            # Another process relays this outbox right now. One relay at a time keeps the
            # order: two relays taking disjoint batches would publish them interleaved.
            return 0
        query = (
            select(outbox_model)
            .where(outbox_model.published_at.is_(None))
            .order_by(outbox_model.seq)
            .limit(BATCH_SIZE)
        )
        for row in session.scalars(query):
            try:
                publisher.publish(row.payload)
            except Exception as exc:
                row.attempts += 1
                row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                logger.warning("publishing event %s failed: %s", row.event_id, exc)
                break
            row.published_at = datetime.now(UTC)
            published += 1
    return published


class Doorbell:
    """Wakes one waiting greenthread; rings while nobody waits are kept as one."""

    def __init__(self) -> None:
        self._queue: LightQueue = LightQueue(maxsize=1)

    def ring(self) -> None:
        try:
            self._queue.put_nowait(None)
        except Full:
            pass  # already rung

    def wait(self, timeout: float) -> bool:
        """True when rung, False after `timeout` seconds."""
        try:
            self._queue.get(timeout=timeout)
        except Empty:
            return False
        return True


class OutboxRelay(DependencyProvider):
    """Background greenthread relaying one service's outbox to the bus."""

    def __init__(self, service: str, outbox_model: Any, interval: float = POLL_SECONDS) -> None:
        self.service = service
        self.outbox_model = outbox_model
        self.interval = interval
        self._running = False
        self._thread: Any = None
        self._doorbell = Doorbell()
        self._unsubscribe: Any = None

    def setup(self) -> None:
        url = self.container.config.get(f"{self.service.upper()}_DATABASE_URL") or database_url(
            self.service
        )
        self.database = Database(url)
        amqp_uri = self.container.config.get("AMQP_URI") or Settings.from_env().amqp_uri
        self.publisher = EventPublisher(amqp_uri)

    def start(self) -> None:
        self._running = True
        self._unsubscribe = on_outbox_commit(self.outbox_model, self._doorbell.ring)
        self._thread = self.container.spawn_managed_thread(self._run)

    def stop(self) -> None:
        self._running = False
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._thread is not None:
            self._thread.kill()
        self.publisher.close()

    def kill(self) -> None:
        self.stop()

    def _run(self) -> None:
        backoff = self.interval
        while self._running:
            try:
                sent = relay_once(self.database, self.outbox_model, self.publisher)
                backoff = self.interval
                if sent:
                    logger.debug("%s relay published %d events", self.service, sent)
                    continue
            except Exception:
                logger.exception("%s outbox relay failed; retrying", self.service)
                backoff = min(backoff * 2, 5.0)
                eventlet.sleep(backoff)  # a failing database or broker: no busy loop on rings
                continue
            self._doorbell.wait(backoff)

    def get_dependency(self, worker_ctx: Any) -> None:
        return None
