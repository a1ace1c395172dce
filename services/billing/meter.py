"""billing's meter: a plain pika consumer of the bus (DESIGN: any AMQP client can follow it).

It binds the durable queue `billing.meter` to `scs.events` for `pod.*`, `volume.*` and
`gpu.*`, applies each message in one database transaction (metering.py) and acknowledges it
only after the commit, so a crash before the ack means a redelivery, which the event-id table
turns into a no-op. The queue outlives the meter: events published while billing is down wait
for it, and their intervals carry their own times, so that time is charged too.

The consumer runs in its own greenthread (MeterRunner, a nameko DependencyProvider that
spawns it with `spawn_managed_thread`), reconnecting with backoff when the broker goes away.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import eventlet
import pika
from nameko.extensions import DependencyProvider
from pika.exceptions import AMQPError

from services.billing import metering
from shared.config import Settings, database_url
from shared.db import Database
from shared.events import EVENT_EXCHANGE

logger = logging.getLogger(__name__)

QUEUE = "billing.meter"
PREFETCH = 100
MAX_BACKOFF_SECONDS = 2.0


def pika_url(amqp_uri: str) -> str:
    """kombu's `pyamqp://` URIs as pika's `amqp://`, with a heartbeat."""
    parts = urlsplit(amqp_uri)
    scheme = "amqps" if parts.scheme.endswith("s") else "amqp"
    url = urlunsplit(parts._replace(scheme=scheme))
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}heartbeat=30&connection_attempts=1&socket_timeout=5"


class Meter:
    """One consumer loop; `run` returns when `stop` is called."""

    def __init__(self, amqp_uri: str, database: Database, queue: str = QUEUE) -> None:
        self.url = pika_url(amqp_uri)
        self.database = database
        self.queue = queue
        self._running = True
        self.applied = 0
        self.duplicates = 0

    def stop(self) -> None:
        self._running = False

    def declare_queue(self) -> None:
        """Declare the exchange, queue and bindings once; a broker that is away is not fatal."""
        try:
            connection = pika.BlockingConnection(pika.URLParameters(self.url))
        except (AMQPError, OSError) as exc:
            logger.warning("billing meter could not declare its queue yet: %s", exc)
            return
        try:
            declare(connection.channel(), self.queue)
        finally:
            if connection.is_open:
                connection.close()

    def run(self) -> None:
        backoff = 0.1
        while self._running:
            try:
                self._consume()
                backoff = 0.1
            except AMQPError as exc:
                logger.warning("billing meter lost the broker (%s); reconnecting", exc)
            except OSError as exc:
                logger.warning("billing meter cannot reach the broker (%s); retrying", exc)
            except Exception:
                # Never let the meter's greenthread die: nameko would kill the container.
                logger.exception("billing meter failed; restarting it")
            eventlet.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)

    def _consume(self) -> None:
        connection = pika.BlockingConnection(pika.URLParameters(self.url))
        try:
            channel = connection.channel()
            declare(channel, self.queue)
            channel.basic_qos(prefetch_count=PREFETCH)
            channel.basic_consume(self.queue, self._on_message, auto_ack=False)
            logger.info("billing meter consuming %s", self.queue)
            while self._running:
                connection.process_data_events(time_limit=0.5)
        finally:
            if connection.is_open:
                connection.close()

    def _on_message(self, channel: Any, method: Any, _properties: Any, body: bytes) -> None:
        try:
            message = json.loads(body)
        except ValueError:
            logger.warning("billing meter dropped a message that is not JSON")
            channel.basic_ack(method.delivery_tag)
            return
        try:
            with self.database.transaction() as session:
                outcome = metering.apply_event(session, message)
        except Exception:
            # The database failed (or raced another meter): give the message back.
            logger.exception("billing meter could not apply a message; requeued")
            channel.basic_nack(method.delivery_tag, requeue=True)
            eventlet.sleep(0.2)
            return
        if outcome == "duplicate":
            self.duplicates += 1
        elif outcome == "applied":
            self.applied += 1
        channel.basic_ack(method.delivery_tag)


def declare(channel: Any, queue: str) -> None:
    """The exchange as nameko and the relay declare it, and billing's durable queue."""
    channel.exchange_declare(EVENT_EXCHANGE, exchange_type="topic", durable=True)
    channel.queue_declare(queue, durable=True)
    for key in metering.ROUTING_KEYS:
        channel.queue_bind(queue, EVENT_EXCHANGE, routing_key=key)


class MeterRunner(DependencyProvider):
    """Runs the meter in a managed greenthread of the billing service's container."""

    def __init__(self, factory: Callable[[str, Database], Meter] = Meter) -> None:
        self.factory = factory
        self.meter: Meter | None = None
        self._thread: Any = None

    def setup(self) -> None:
        config = self.container.config
        url = config.get("BILLING_DATABASE_URL") or database_url("billing")
        amqp_uri = config.get("AMQP_URI") or Settings.from_env().amqp_uri
        self.meter = self.factory(amqp_uri, Database(url))

    def start(self) -> None:
        assert self.meter is not None
        # Declare the durable queue before the container counts as started, so that no event
        # published from then on can miss it; the consumer loop declares again on reconnects.
        self.meter.declare_queue()
        self._thread = self.container.spawn_managed_thread(self.meter.run)

    def stop(self) -> None:
        if self.meter is not None:
            self.meter.stop()
        if self._thread is not None:
            self._thread.wait()

    def kill(self) -> None:
        if self.meter is not None:
            self.meter.stop()
        if self._thread is not None:
            self._thread.kill()

    def get_dependency(self, worker_ctx: Any) -> Meter | None:
        return self.meter
