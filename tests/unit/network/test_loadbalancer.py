"""The load-balancer controller (loadbalancer.py) against a fake Kubernetes API.

Real: the database, the embedded driver, the outbox. Faked: the cluster (FakeCluster in
conftest.py) - what the controller writes to it is recorded and checked.
"""

from datetime import UTC, datetime

from sqlalchemy import select

from services.network import loadbalancer
from services.network.models import OutboxEvent


def _events(ctx, event_type):
    with ctx.db.transaction() as session:
        rows = session.scalars(select(OutboxEvent).where(OutboxEvent.event_type == event_type))
        return [row.payload for row in rows]


def _slice(*endpoints):
    return {
        "endpoints": [
            {"addresses": [ip], "conditions": {"ready": ready}, "targetRef": {"name": f"pod-{ip}"}}
            for ip, ready in endpoints
        ]
    }


def test_addresses_are_distinct_pending_is_announced_once_and_freed_addresses_reused(
    lb_ctx, fake_cluster
) -> None:
    fake_cluster.add_namespace("a", "p1")
    answers = [
        loadbalancer.reconcile_service(lb_ctx, fake_cluster.service("a", f"s{i}"), "p1")
        for i in range(6)
    ]
    addresses = [a["address"] for a in answers if a["address"]]
    assert len(addresses) == 4 == len(set(addresses))
    assert [a["state"] for a in answers[4:]] == ["pending", "pending"]
    assert answers[4]["reason"] == "pool_exhausted"
    assert len(fake_cluster.status_patches) == 4
    assert [r for _, r in fake_cluster.kube_events] == ["AllocationFailed"] * 2

    # A repeated event changes nothing and announces nothing again.
    again = fake_cluster.read_object("Service", "a", "s5")
    loadbalancer.reconcile_service(lb_ctx, again, "p1")
    assert len(_events(lb_ctx, "lb.allocation_refused")) == 2

    released = loadbalancer.release(lb_ctx, "a/s0")
    assert released == addresses[0]
    assert loadbalancer.retry_pending(lb_ctx) == 1
    assert loadbalancer.status_of(lb_ctx, "a/s4")["address"] == released
    assert _events(lb_ctx, "lb.address_released")[0]["data"] == {"address": released}


def test_a_service_that_stops_being_a_load_balancer_returns_its_address(lb_ctx, fake_cluster):
    fake_cluster.add_namespace("a", "p1")
    svc = fake_cluster.service("a", "web")
    address = loadbalancer.reconcile_service(lb_ctx, svc, "p1")["address"]
    svc["spec"]["type"] = "ClusterIP"
    assert loadbalancer.reconcile_service(lb_ctx, svc, "p1")["state"] == "none"
    assert loadbalancer.status_of(lb_ctx, "a/web")["address"] is None
    assert address in [e["data"]["address"] for e in _events(lb_ctx, "lb.address_released")]


def test_members_follow_ready_endpoints_with_events(lb_ctx, fake_cluster) -> None:
    fake_cluster.add_namespace("a", "p1")
    address = loadbalancer.reconcile_service(lb_ctx, fake_cluster.service("a", "web"), "p1")[
        "address"
    ]
    fake_cluster.slices[("a", "web")] = [_slice(("10.0.0.1", True), ("10.0.0.2", False))]
    assert loadbalancer.sync_members(lb_ctx, "a", "web") == (1, 0)
    fake_cluster.slices[("a", "web")] = [_slice(("10.0.0.2", True)), _slice(("10.0.0.3", None))]
    assert loadbalancer.sync_members(lb_ctx, "a", "web") == (2, 1)
    assert loadbalancer.sync_members(lb_ctx, "a", "web") == (0, 0)

    added = _events(lb_ctx, "lb.member_added")
    removed = _events(lb_ctx, "lb.member_removed")
    assert [e["data"]["member"] for e in added] == ["10.0.0.1", "10.0.0.2", "10.0.0.3"]
    assert removed[0]["data"] == {"address": address, "member": "10.0.0.1", "pod": "pod-10.0.0.1"}
    assert removed[0]["project"] == "p1"


def test_members_of_a_service_without_an_address_are_not_tracked(lb_ctx, fake_cluster) -> None:
    fake_cluster.add_namespace("a", "p1")
    fake_cluster.slices[("a", "plain")] = [_slice(("10.0.0.1", True))]
    assert loadbalancer.sync_members(lb_ctx, "a", "plain") == (0, 0)


def test_release_missing_after_a_full_list(lb_ctx, fake_cluster) -> None:
    fake_cluster.add_namespace("a", "p1")
    for name in ("keep", "gone"):
        loadbalancer.reconcile_service(lb_ctx, fake_cluster.service("a", name), "p1")
    listed_at = datetime.now(UTC)
    loadbalancer.reconcile_service(lb_ctx, fake_cluster.service("a", "newer"), "p1")
    assert loadbalancer.release_missing(lb_ctx, {"a/keep"}, listed_at) == ["a/gone"]
    assert loadbalancer.status_of(lb_ctx, "a/newer")["state"] == "allocated"
    assert loadbalancer.status_of(lb_ctx, "a/keep")["state"] == "allocated"
