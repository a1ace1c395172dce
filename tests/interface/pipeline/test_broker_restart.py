"""Restart RabbitMQ in the middle of 1,000 operations: the audit holds exactly one record per
operation and billing's totals equal those computed from the operations.

Real: a throwaway RabbitMQ node of this test's own (the shared broker is never restarted),
PostgreSQL, the audit and billing services and the outbox relay in real nameko containers.
The operations come from a stand-in for the workload service (simulator.py).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import eventlet
import pika
import pytest
from nameko.runners import ServiceRunner
from nameko.standalone.rpc import ServiceRpcProxy
from sqlalchemy import text

from services.audit.service import AuditService
from services.billing.meter import QUEUE, pika_url
from services.billing.service import BillingService
from services.billing.usage import GIB, US_PER_S
from shared.config import nameko_config
from shared.db import Database
from tests.interface.pipeline import simulator
from tests.interface.pipeline.chaos_broker import ChaosBroker, available
from tests.interface.pipeline.support import count_rows, wait_until

pytestmark = pytest.mark.interface

PODS = 500  # 1,000 operations
PROJECTS = ("chaos-a", "chaos-b")
AUDIT_QUEUE = "evt-scs-#--audit.handle_event"
RESTART_AT = 300


@pytest.fixture
def broker() -> Iterator[ChaosBroker]:
    if not available():
        message = "rabbitmq-server is not installed (run `make servers-up`)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    node = ChaosBroker()
    try:
        node.start()
        yield node
    finally:
        node.remove()


def _queues_ready(amqp_uri: str) -> bool:
    try:
        connection = pika.BlockingConnection(pika.URLParameters(pika_url(amqp_uri)))
    except pika.exceptions.AMQPError:
        return False
    try:
        for queue in (AUDIT_QUEUE, QUEUE):
            connection.channel().queue_declare(queue, passive=True)
        return True
    except pika.exceptions.ChannelClosedByBroker:
        return False
    finally:
        if connection.is_open:
            connection.close()


def _audited_ids(url: str) -> set[str]:
    with Database(url).engine.connect() as conn:
        return set(conn.execute(text("SELECT event_id FROM audit_records")).scalars())


def test_restart_in_the_middle_of_1000_operations(broker: ChaosBroker, databases: Any) -> None:
    started = time.monotonic()
    config = {
        **nameko_config(),
        "AMQP_URI": broker.amqp_uri,
        "AUDIT_DATABASE_URL": databases("audit"),
        "BILLING_DATABASE_URL": databases("billing"),
        "SIMULATOR_DATABASE_URL": databases(),
    }
    workload = Database(config["SIMULATOR_DATABASE_URL"])
    simulator.Base.metadata.create_all(workload.engine)
    runner = ServiceRunner(config)
    for service in (AuditService, BillingService, simulator.SimulatorService):
        runner.add_service(service)
    runner.start()
    try:
        wait_until(lambda: _queues_ready(broker.amqp_uri), 20, "the subscribers' queues")
        operations = simulator.plan(PODS, PROJECTS)
        ids, restart, away = [], None, 0.0
        for index, operation in enumerate(operations):
            ids.append(simulator.apply(workload, operation))
            if index == RESTART_AT:
                restart = eventlet.spawn(broker.restart)
            eventlet.sleep(0.005)  # operations keep coming while the broker is away
        assert restart is not None
        away = restart.wait()

        audit_url, billing_url = config["AUDIT_DATABASE_URL"], config["BILLING_DATABASE_URL"]
        wait_until(lambda: count_rows(audit_url, "audit_records") >= 1000, 60, "1,000 records")
        wait_until(lambda: count_rows(billing_url, "billing_events") >= 1000, 30, "billing")
        published = count_rows(config["SIMULATOR_DATABASE_URL"], "outbox", "published_at IS NULL")
        assert published == 0

        assert _audited_ids(audit_url) == set(ids) and len(ids) == 1000
        assert count_rows(audit_url, "audit_records") == 1000
        assert count_rows(billing_url, "billing_events") == 1000
        for project in PROJECTS:
            _assert_billing_matches(config, operations, project)
    finally:
        runner.stop()
    duration = time.monotonic() - started
    print(f"broker away {away:.1f} s; whole test {duration:.1f} s")


def _assert_billing_matches(
    config: dict[str, Any], operations: list[simulator.Operation], project: str
) -> None:
    expected = simulator.expected_core_seconds(operations, project)
    with ServiceRpcProxy("billing", config) as billing:
        answer = billing.usage(
            project, "2026-11-30T00:00:00+00:00", datetime(2026, 12, 2).isoformat() + "Z"
        )
    assert answer["cpu_core_seconds"] == {
        "requested": simulator.exact_units(expected["cpu_mc_us"], 1000 * US_PER_S),
        "overhead": simulator.exact_units(expected["overhead_cpu_mc_us"], 1000 * US_PER_S),
    }
    assert answer["memory_gib_seconds"] == {
        "requested": simulator.exact_units(expected["memory_b_us"], GIB * US_PER_S),
        "overhead": simulator.exact_units(expected["overhead_memory_b_us"], GIB * US_PER_S),
    }
