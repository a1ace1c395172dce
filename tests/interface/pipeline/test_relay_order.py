"""The outbox relay keeps the order of events when two relays run at once and when a publish
fails in the middle, and sends every event. Real PostgreSQL and RabbitMQ; the one injected
fault is a publisher that refuses one publish (as a broker nack would), said below.
"""

from __future__ import annotations

import json
from typing import Any

import eventlet
import pika
import pytest

from services.billing.meter import pika_url
from shared.db import Database
from shared.events import EVENT_EXCHANGE, new_event, record_event
from shared.outbox import EventPublisher, relay_once
from tests.interface.pipeline.simulator import Base, SimulatorOutbox

pytestmark = pytest.mark.interface

RESOURCES = 4
REVISIONS = 120
QUEUE = "relay-order-observer"


class FailingOnce(EventPublisher):
    """Faked fault: the publish number `fail_at` raises once, like a refused confirm."""

    def __init__(self, amqp_uri: str, fail_at: int) -> None:
        super().__init__(amqp_uri)
        self.count = 0
        self.fail_at = fail_at

    def publish(self, envelope: dict[str, Any]) -> None:
        self.count += 1
        if self.count == self.fail_at:
            raise ConnectionError("injected: the broker refused this publish")
        super().publish(envelope)


def _observe(amqp_uri: str) -> Any:
    connection = pika.BlockingConnection(pika.URLParameters(pika_url(amqp_uri)))
    channel = connection.channel()
    channel.exchange_declare(EVENT_EXCHANGE, exchange_type="topic", durable=True)
    channel.queue_declare(QUEUE, durable=False, auto_delete=False)
    channel.queue_bind(QUEUE, EVENT_EXCHANGE, routing_key="#")
    return connection, channel


def _drain(channel: Any, expected: int) -> list[dict[str, Any]]:
    bodies: list[dict[str, Any]] = []
    idle = 0
    while idle < 20:
        method, _props, body = channel.basic_get(QUEUE, auto_ack=True)
        if method is None:
            idle += 1 if len(bodies) >= expected else 0
            eventlet.sleep(0.05)
            continue
        bodies.append(json.loads(body))
    return bodies


def _relay_until_empty(database: Database, publisher: EventPublisher) -> None:
    for _ in range(200):
        relay_once(database, SimulatorOutbox, publisher)
        with database.transaction() as session:
            pending = session.query(SimulatorOutbox).filter(SimulatorOutbox.published_at.is_(None))
            if pending.count() == 0:
                return
        eventlet.sleep(0.01)
    publisher.close()


def test_two_relays_and_a_failed_publish_keep_the_order(databases: Any, amqp_uri: str) -> None:
    database = Database(databases())
    Base.metadata.create_all(database.engine)
    connection, channel = _observe(amqp_uri)
    try:
        for revision in range(REVISIONS):
            for resource in range(RESOURCES):
                with database.transaction() as session:
                    record_event(
                        session,
                        SimulatorOutbox,
                        new_event(
                            "workload.updated",
                            actor="system",
                            project="p",
                            resource={"kind": "Deployment", "name": f"w{resource}"},
                            data={"revision": revision},
                        ),
                    )
        relays = [
            eventlet.spawn(_relay_until_empty, database, FailingOnce(amqp_uri, fail_at=150)),
            eventlet.spawn(_relay_until_empty, database, EventPublisher(amqp_uri)),
        ]
        for relay in relays:
            relay.wait()
        bodies = _drain(channel, RESOURCES * REVISIONS)
    finally:
        connection.close()

    first_seen: dict[str, dict[str, Any]] = {}
    for body in bodies:
        first_seen.setdefault(body["id"], body)  # a duplicate after a failure is allowed
    assert len(first_seen) == RESOURCES * REVISIONS
    for resource in range(RESOURCES):
        revisions = [
            body["data"]["revision"]
            for body in first_seen.values()
            if body["resource"]["name"] == f"w{resource}"
        ]
        assert revisions == list(range(REVISIONS)), f"w{resource} out of order"
