"""Deliver every event twice: the audit holds one record per event (and knows it saw two
copies), billing's totals equal those computed from the operations. Real broker (a fresh
vhost), PostgreSQL, the audit and billing services in real containers; the events are the
simulator's pod operations (simulator.py), each published twice with publisher confirms.
"""

from __future__ import annotations

from typing import Any

import pytest
from nameko.runners import ServiceRunner
from nameko.standalone.rpc import ServiceRpcProxy

from services.audit.service import AuditService
from services.billing.service import BillingService
from services.billing.usage import GIB, US_PER_S
from shared.config import nameko_config
from shared.events import new_event
from tests.interface.pipeline import simulator
from tests.interface.pipeline.support import count_rows, publish_all, wait_until

pytestmark = pytest.mark.interface

PODS = 100


def _envelope(operation: simulator.Operation) -> dict[str, Any]:
    field = "started_at" if operation.kind == "pod.started" else "stopped_at"
    return new_event(
        operation.kind,
        actor="system",
        project=operation.project,
        resource={"kind": "Pod", "namespace": "sim", "name": operation.uid, "uid": operation.uid},
        data={
            "cpu_millicores": operation.cpu_millicores,
            "memory_bytes": operation.memory_bytes,
            "overhead_cpu_millicores": simulator.OVERHEAD_CPU,
            "overhead_memory_bytes": simulator.OVERHEAD_MEMORY,
            field: operation.moment.isoformat(),
        },
    )


def test_every_event_delivered_twice_counts_once(databases: Any, amqp_uri: str) -> None:
    config = {
        **nameko_config(),
        "AMQP_URI": amqp_uri,
        "AUDIT_DATABASE_URL": databases("audit"),
        "BILLING_DATABASE_URL": databases("billing"),
    }
    runner = ServiceRunner(config)
    runner.add_service(AuditService)
    runner.add_service(BillingService)
    runner.start()
    try:
        audit_url, billing_url = config["AUDIT_DATABASE_URL"], config["BILLING_DATABASE_URL"]
        operations = simulator.plan(PODS, ("twice-a", "twice-b"))
        envelopes = [_envelope(op) for op in operations]
        # The billing meter declares its queue when it connects: wait for the first copy.
        wait_until(
            lambda: (
                publish_all(amqp_uri, envelopes[:1])
                and count_rows(billing_url, "billing_events") == 1
            ),
            20,
            "the meter's queue",
        )
        publish_all(amqp_uri, envelopes[1:] + envelopes)

        total = len(envelopes)
        twice = "deliveries >= 2"
        wait_until(lambda: count_rows(audit_url, "audit_records", twice) == total, 30, "audit")
        wait_until(
            lambda: count_rows(billing_url, "billing_events", twice) == total, 30, "billing"
        )
        assert count_rows(audit_url, "audit_records") == total
        assert count_rows(billing_url, "billing_events") == total
        with ServiceRpcProxy("billing", config) as billing:
            for project in ("twice-a", "twice-b"):
                expected = simulator.expected_core_seconds(operations, project)
                answer = billing.usage(
                    project, "2026-11-30T00:00:00+00:00", "2026-12-02T00:00:00+00:00"
                )
                assert answer["cpu_core_seconds"]["requested"] == simulator.exact_units(
                    expected["cpu_mc_us"], 1000 * US_PER_S
                )
                assert answer["memory_gib_seconds"]["requested"] == simulator.exact_units(
                    expected["memory_b_us"], GIB * US_PER_S
                )
    finally:
        runner.stop()
