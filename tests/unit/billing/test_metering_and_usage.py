"""Billing's rules on a real SQLite database: idempotence, order, clipping, rates."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from services.billing import metering, rates, usage
from services.billing.exceptions import InvalidPeriod, InvalidRate
from services.billing.schemas import load_period, load_rates
from shared.events import new_event

T0 = datetime(2026, 12, 1, tzinfo=UTC)
GIB = 2**30


def pod_event(kind: str, uid: str, moment: datetime, **data: Any) -> dict[str, Any]:
    body = {
        "workload": {"kind": "Deployment", "name": "web"},
        "node": "cpu-1",
        "cpu_millicores": 500,
        "memory_bytes": GIB,
        "overhead_cpu_millicores": 250,
        "overhead_memory_bytes": 160 * 2**20,
        "gpu_count": 0,
        "gpu_model": None,
        ("started_at" if kind == "pod.started" else "stopped_at"): moment.isoformat(),
        **data,
    }
    return new_event(
        kind,
        actor="system",
        project="pa",
        resource={"kind": "Pod", "namespace": "ns", "name": f"web-{uid}", "uid": uid},
        data=body,
    )


def volume_event(kind: str, moment: datetime, size: int, cls: str = "capacity") -> dict:
    envelope = new_event(
        kind,
        actor="u1",
        project="pa",
        resource={"kind": "PersistentVolumeClaim", "namespace": "ns", "name": "data", "uid": "v1"},
        data={"storage_class": cls, "size_bytes": size},
    )
    envelope["occurred_at"] = moment.isoformat()
    return envelope


def apply(billing_db: Any, *events: dict[str, Any]) -> list[str]:
    outcomes = []
    for event in events:
        with billing_db.transaction() as session:
            outcomes.append(metering.apply_event(session, event))
    return outcomes


def report(billing_db: Any, since: datetime, until: datetime) -> dict[str, Any]:
    with billing_db.transaction() as session:
        return usage.report(usage.totals(session, "pa", since, until))


def test_a_pod_is_charged_requested_and_overhead_apart(billing_db: Any) -> None:
    apply(
        billing_db,
        pod_event("pod.started", "a", T0),
        pod_event("pod.stopped", "a", T0 + timedelta(hours=1)),
    )
    answer = report(billing_db, T0 - timedelta(days=1), T0 + timedelta(days=1))
    assert answer["cpu_core_seconds"] == {"requested": 1800.0, "overhead": 900.0}
    assert answer["memory_gib_seconds"]["requested"] == 3600.0
    assert answer["memory_gib_seconds"]["overhead"] == pytest.approx(562.5)


def test_every_event_twice_counts_once(billing_db: Any) -> None:
    events = [
        pod_event("pod.started", "a", T0),
        pod_event("pod.stopped", "a", T0 + timedelta(hours=1)),
        volume_event("volume.provisioned", T0, 10 * GIB),
    ]
    assert apply(billing_db, *events) == ["applied"] * 3
    assert apply(billing_db, *events) == ["duplicate"] * 3
    answer = report(billing_db, T0, T0 + timedelta(hours=2))
    assert answer["cpu_core_seconds"]["requested"] == 1800.0
    assert answer["storage_gib_seconds"] == {"capacity": 72000.0}


def test_intervals_are_clipped_to_the_period(billing_db: Any) -> None:
    apply(
        billing_db,
        pod_event("pod.started", "a", T0),
        pod_event("pod.stopped", "a", T0 + timedelta(hours=2)),
    )
    answer = report(billing_db, T0 + timedelta(minutes=30), T0 + timedelta(hours=1))
    assert answer["cpu_core_seconds"]["requested"] == 900.0


def test_a_stop_before_its_start_gives_the_same_interval(billing_db: Any) -> None:
    apply(
        billing_db,
        pod_event("pod.stopped", "a", T0 + timedelta(hours=1)),
        pod_event("pod.started", "a", T0),
    )
    answer = report(billing_db, T0, T0 + timedelta(days=1))
    assert answer["cpu_core_seconds"]["requested"] == 1800.0


def test_a_running_pod_counts_up_to_the_end_of_the_period(billing_db: Any) -> None:
    apply(billing_db, pod_event("pod.started", "a", T0))
    answer = report(billing_db, T0, T0 + timedelta(minutes=10))
    assert answer["cpu_core_seconds"]["requested"] == 300.0


def test_gpu_seconds_per_model_from_pods_and_allocations_apart(billing_db: Any) -> None:
    apply(
        billing_db,
        pod_event("pod.started", "g", T0, gpu_count=2, gpu_model="tesla-t4"),
        pod_event("pod.stopped", "g", T0 + timedelta(seconds=100), gpu_count=2),
    )
    allocation = new_event(
        "gpu.allocated",
        actor="system",
        project="pa",
        resource={"kind": "GpuAllocation", "name": "g", "uid": "alloc-1"},
        data={"node": "gpu-1", "model": "tesla-t4", "count": 2},
    )
    allocation["occurred_at"] = T0.isoformat()
    released = {
        **allocation,
        "id": new_event("x.y", actor="s", resource={"kind": "k", "name": "n"})["id"],
    }
    released.update(type="gpu.released", occurred_at=(T0 + timedelta(seconds=50)).isoformat())
    apply(billing_db, allocation, released)
    answer = report(billing_db, T0, T0 + timedelta(hours=1))
    assert answer["gpu_seconds"] == {"tesla-t4": 200.0}
    assert answer["gpu_allocation_seconds"] == {"tesla-t4": 100.0}


def test_volume_history_expansion_and_deletion(billing_db: Any) -> None:
    apply(
        billing_db,
        volume_event("volume.expanded", T0 + timedelta(seconds=100), 2 * GIB),
        volume_event("volume.provisioned", T0, GIB),
        volume_event("volume.deleted", T0 + timedelta(seconds=300), 2 * GIB),
    )
    answer = report(billing_db, T0, T0 + timedelta(hours=1))
    assert answer["storage_gib_seconds"] == {"capacity": 500.0}


def test_malformed_and_foreign_events_change_nothing(billing_db: Any) -> None:
    bad = pod_event("pod.started", "a", T0)
    bad["data"]["cpu_millicores"] = "lots"
    assert apply(billing_db, bad, {"not": "an event"}) == ["skipped", "skipped"]
    assert report(billing_db, T0, T0 + timedelta(hours=1))["cpu_core_seconds"]["requested"] == 0


def test_cost_uses_rates_with_family_and_overhead_fallbacks(billing_db: Any) -> None:
    apply(
        billing_db,
        pod_event("pod.started", "a", T0),
        pod_event("pod.stopped", "a", T0 + timedelta(seconds=1000)),
    )
    with billing_db.transaction() as session:
        rates.set_rates(session, {"cpu_core_seconds": Decimal("0.01"), "memory_gib_seconds": 0})
    with billing_db.transaction() as session:
        sums = usage.totals(session, "pa", T0, T0 + timedelta(hours=1))
        _, prices = rates.current(session)
    answer = rates.cost_lines(usage.quantities(sums), prices)
    amounts = {line["metric"]: line["amount"] for line in answer["lines"]}
    assert amounts["cpu_core_seconds"] == "5.000000"
    assert amounts["cpu_overhead_core_seconds"] == "2.500000"
    assert answer["total"] == "7.500000"


def test_rates_and_periods_are_validated() -> None:
    with pytest.raises(InvalidRate):
        load_rates({"cpu_core_seconds": -1})
    with pytest.raises(InvalidRate):
        load_rates({"DROP": 1})
    for typo in ("bananas", "cpu_seconds", "cpu_core_seconds.extra", "memory_gib_seconds.x"):
        with pytest.raises(InvalidRate) as refused:
            load_rates({typo: 1})
        assert refused.value.details["fields"] == {typo: ["unknown metric"]}
    assert load_rates({"storage_gib_seconds.capacity": 0, "cpu_overhead_core_seconds": "0.1"})
    assert load_rates({"gpu_seconds.tesla-t4": "0.5"}) == {"gpu_seconds.tesla-t4": Decimal("0.5")}
    with pytest.raises(InvalidPeriod) as refused:
        load_period({"since": "2026-12-02T00:00:00Z", "until": "2026-12-01T00:00:00Z"}, T0)
    assert "until" in refused.value.details["fields"]
    period = load_period({"until": "2030-01-01T00:00:00Z"}, T0)
    assert period["until"] == T0 and period["since"] == T0 - timedelta(days=30)
