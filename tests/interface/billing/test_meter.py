"""billing's pika meter on the real broker and PostgreSQL: duplicates, restarts, the RPC.

Events are published the way the relay publishes them (confirmed, persistent, on
`scs.events`); the meter is the real one, in the real BillingService container.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from nameko.standalone.rpc import ServiceRpcProxy

from services.billing.service import BillingService
from shared.events import new_event
from tests.interface.pipeline.support import count_rows, publish_all, wait_until

pytestmark = pytest.mark.interface

GIB = 2**30


def pod(kind: str, project: str, uid: str, moment: datetime, cpu: int = 1000) -> dict[str, Any]:
    field = "started_at" if kind == "pod.started" else "stopped_at"
    return new_event(
        kind,
        actor="system",
        project=project,
        resource={"kind": "Pod", "namespace": "ns", "name": f"p-{uid}", "uid": uid},
        data={
            "workload": {"kind": "Deployment", "name": "web"},
            "node": "cpu-1",
            "cpu_millicores": cpu,
            "memory_bytes": GIB,
            "overhead_cpu_millicores": 250,
            "overhead_memory_bytes": 160 * 2**20,
            "gpu_count": 1,
            "gpu_model": "tesla-t4",
            field: moment.isoformat(),
        },
    )


def applied(url: str) -> int:
    return count_rows(url, "billing_events")


def deliveries(url: str) -> int:
    """Deliveries the meter handled (each copy of a duplicate counts)."""
    return count_rows(url, "billing_events") + count_rows(url, "billing_events", "deliveries = 2")


def test_every_event_delivered_twice_is_counted_once(
    container_factory: Any, billing_config: dict[str, Any], billing_database_url: str
) -> None:
    container = container_factory(BillingService, billing_config)
    container.start()
    t0 = datetime.now(UTC) - timedelta(hours=2)
    events = []
    for i in range(20):
        events.append(pod("pod.started", "pa", f"u{i}", t0))
        events.append(pod("pod.stopped", "pa", f"u{i}", t0 + timedelta(seconds=60 + i)))
    publish_all(billing_config["AMQP_URI"], events + events)

    wait_until(lambda: deliveries(billing_database_url) == 80, 30, "80 deliveries")
    with ServiceRpcProxy("billing", billing_config) as billing:
        answer = billing.usage("pa", t0.isoformat(), datetime.now(UTC).isoformat())
        cost = billing.cost_report("pa", t0.isoformat(), datetime.now(UTC).isoformat())
    seconds = sum(60 + i for i in range(20))
    assert answer["cpu_core_seconds"] == {"requested": seconds, "overhead": seconds / 4}
    assert answer["gpu_seconds"] == {"tesla-t4": seconds}
    assert answer["memory_gib_seconds"]["requested"] == seconds
    assert cost["currency"] and cost["total"]
    assert applied(billing_database_url) == 40  # the second copies changed nothing


def test_time_while_billing_was_down_is_charged(
    container_factory: Any, billing_config: dict[str, Any], billing_database_url: str
) -> None:
    first = container_factory(BillingService, billing_config)
    first.start()  # declares the durable queue
    t0 = datetime.now(UTC) - timedelta(hours=1)
    publish_all(billing_config["AMQP_URI"], [pod("pod.started", "pa", "before", t0)])
    wait_until(lambda: applied(billing_database_url) == 1, 20, "the first start")
    first.stop()

    # While billing is down: the first pod stops, another one runs its whole life.
    publish_all(
        billing_config["AMQP_URI"],
        [
            pod("pod.stopped", "pa", "before", t0 + timedelta(minutes=30)),
            pod("pod.started", "pa", "during", t0 + timedelta(minutes=10)),
            pod("pod.stopped", "pa", "during", t0 + timedelta(minutes=20)),
        ],
    )
    second = container_factory(BillingService, billing_config)
    second.start()
    wait_until(lambda: applied(billing_database_url) == 4, 20, "the events sent while down")
    with ServiceRpcProxy("billing", billing_config) as billing:
        answer = billing.usage("pa", t0.isoformat(), datetime.now(UTC).isoformat())
    assert answer["cpu_core_seconds"]["requested"] == 30 * 60 + 10 * 60


def test_bad_periods_and_rates_are_refused_with_the_field(
    container_factory: Any, billing_config: dict[str, Any]
) -> None:
    container = container_factory(BillingService, billing_config)
    container.start()
    with ServiceRpcProxy("billing", billing_config) as billing:
        with pytest.raises(Exception) as refused:
            billing.usage("pa", "2026-12-02T00:00:00+00:00", "2026-12-01T00:00:00+00:00")
        assert getattr(refused.value, "code", "") == "invalid_period"
        with pytest.raises(Exception) as refused:
            billing.set_rates({"cpu_core_seconds": "-1"})
        assert getattr(refused.value, "code", "") == "invalid_rate"
        answer = billing.set_rates({"gpu_seconds.tesla-t4": "0.25"})
    assert answer["rates"]["gpu_seconds.tesla-t4"] == "0.25"
