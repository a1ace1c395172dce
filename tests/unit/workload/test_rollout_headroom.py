"""Rollout headroom (maxSurge grants), stuck rollouts and the reconcile pass.

Real: the workload database (SQLite, migrated) and its outbox. Faked: the quota service
(`LedgerQuota`, an in-memory ledger with one limit on pods that refuses what does not fit),
the cluster (`FakeCluster`, a dict of objects answering get/list as the apiserver would) and
the pod watcher's events (real `PodEvents` on the real database).
"""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from services.workload import grants, lifecycle, observe
from services.workload.deps import Deps
from services.workload.exceptions import ObjectNotFound, QuotaRefused
from services.workload.models import OutboxEvent, PodRun, Workload
from services.workload.pod_watcher import PodEvents
from services.workload.quota_usage import PodCost
from services.workload.reconcile import forget_workload, reconcile
from shared.errors import RemoteScsError


class LedgerQuota:
    def __init__(self, pod_limit: int) -> None:
        self.pod_limit = pod_limit
        self.held: dict[str, int] = {}

    def reserve(self, project: str, key: str, items: dict, actor: str) -> dict:
        pods = items["count.pods"]["requested"]
        if sum(self.held.values()) + pods > self.pod_limit:
            raise RemoteScsError(
                "over the pods limit", {"count.pods": pods}, "quota_exceeded", 422
            )
        self.held[key] = pods
        return {"key": key}

    def commit(self, key: str, actor: str) -> dict:
        return {"key": key}

    def release(self, key: str, actor: str) -> dict:
        self.held.pop(key, None)
        return {"key": key}


class FakeCluster:
    def __init__(self, objects: dict[tuple[str, str, str], dict], pods: list[dict]) -> None:
        self.objects, self.pods = objects, pods

    def get(self, kind: str, namespace: str, name: str) -> dict:
        if (kind, namespace, name) not in self.objects:
            raise ObjectNotFound(f"{kind} {namespace}/{name} not found")
        return self.objects[(kind, namespace, name)]

    def list_objects(self, kind: str, namespace: Any = None, selector: Any = None) -> dict:
        return {"items": self.pods}


COST = PodCost(cpu=100, memory=128 * 2**20)


@pytest.mark.parametrize(
    "strategy, replicas, surge",
    [
        (None, 4, 1),
        (None, 5, 2),
        ({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 3}}, 4, 3),
        ({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "50%"}}, 3, 2),
        ({"type": "Recreate"}, 4, 0),
    ],
)
def test_surge_follows_max_surge_rounded_up(strategy: Any, replicas: int, surge: int) -> None:
    body = {"kind": "Deployment", "spec": {"strategy": strategy} if strategy else {}}
    assert grants.surge_pods(body, replicas) == surge
    assert grants.surge_pods({"kind": "StatefulSet", "spec": {}}, replicas) == 0


def test_surge_that_does_not_fit_is_refused_naming_it() -> None:
    quota = LedgerQuota(pod_limit=4)
    quota.held["replicas"] = 4
    with pytest.raises(QuotaRefused) as caught:
        grants.plan_surge(quota, "p", "w", [], COST, 1, "t")
    assert caught.value.http_status == 422
    assert caught.value.details["surge"] == 1
    assert caught.value.details["field"] == "spec.strategy.rollingUpdate.maxSurge"
    assert "surge" in caught.value.message


def test_surge_grant_is_kept_apart_from_replica_grants() -> None:
    quota = LedgerQuota(pod_limit=10)
    held = [{"key": "base", "pods": 4}]
    change = grants.plan_surge(quota, "p", "w", held, COST, 1, "t")
    held = held + grants.finish(quota, change, "w")

    assert grants.pods_paid(held) == 4
    assert [g["pods"] for g in grants.surge_grants(held)] == [1]
    # a second rollout while the first is running keeps the headroom it has
    again = grants.plan_surge(quota, "p", "w", held, COST, 1, "t")
    assert again.reserved == [] and again.surge == grants.surge_grants(held)
    # scaling keeps the surge grant out of its arithmetic
    scaled = grants.plan(quota, "p", "w", held, COST, 2, "t")
    assert grants.surge_grants(grants.finish(quota, scaled, "w")) == grants.surge_grants(held)


def test_a_replica_failure_marks_the_rollout_stuck_with_its_reason() -> None:
    body = {
        "kind": "Deployment",
        "metadata": {"generation": 2},
        "spec": {"replicas": 2},
        "status": {
            "observedGeneration": 2,
            "replicas": 2,
            "conditions": [
                {"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated"},
                {
                    "type": "ReplicaFailure",
                    "status": "True",
                    "reason": "FailedCreate",
                    "message": 'pods "web-x" is forbidden: exceeded quota: q',
                },
            ],
        },
    }
    status = observe.rollout_status(body)
    assert status["state"] == "stuck"
    assert status["reason"] == "FailedCreate"
    assert "exceeded quota" in status["message"]


def _row(name: str, grants_held: list[dict], kind: str = "Deployment") -> Workload:
    now = datetime.now(UTC)
    return Workload(
        id=name,
        project_id="p1",
        namespace="ns",
        kind=kind,
        name=name,
        uid=None,
        replicas=2,
        stopped=False,
        revision=1,
        pod_cost=COST.to_dict(),
        storage={},
        quota_grants=grants_held,
        created_by="t",
        created_at=now,
        updated_at=now,
    )


def test_reconcile_forgets_ghosts_settles_surges_and_stops_vanished_pods(workload_db: Any) -> None:
    quota = LedgerQuota(pod_limit=10)
    quota.held.update({"ghost": 2, "live": 2, "live-surge": 1})
    surge = {"key": "live-surge", "pods": 1, "surge": True, "cost": COST.to_dict()}
    with workload_db.transaction() as session:
        session.add(_row("ghost", [{"key": "ghost", "pods": 2}]))
        session.add(_row("live", [{"key": "live", "pods": 2}, surge]))
        session.add(
            PodRun(
                uid="u1",
                project_id="p1",
                namespace="ns",
                name="ghost-1",
                started_at=datetime.now(UTC) - timedelta(minutes=1),
            )
        )
    done = {
        "kind": "Deployment",
        "metadata": {"generation": 1, "name": "live", "namespace": "ns"},
        "spec": {"replicas": 2},
        "status": {
            "observedGeneration": 1,
            "replicas": 2,
            "updatedReplicas": 2,
            "availableReplicas": 2,
        },
    }
    cluster = FakeCluster({("Deployment", "ns", "live"): done}, pods=[])
    deps = Deps(db=workload_db, cluster=cluster, quota=quota)  # type: ignore[arg-type]

    result = reconcile(deps, PodEvents(workload_db, cluster))  # type: ignore[arg-type]
    again = reconcile(deps, PodEvents(workload_db, cluster))  # type: ignore[arg-type]

    assert result == {
        "workloads_gone": 1, "surges_settled": 1, "jobs_finished": 0, "pods_stopped": 1
    }  # fmt: skip
    assert again == {
        "workloads_gone": 0, "surges_settled": 0, "jobs_finished": 0, "pods_stopped": 0
    }  # fmt: skip
    assert quota.held == {"live": 2}
    with workload_db.transaction() as session:
        names = [r.name for r in session.scalars(select(Workload))]
        events = [
            (e.event_type, e.payload["data"].get("reason"))
            for e in session.scalars(select(OutboxEvent))
        ]
    assert names == ["live"]
    assert ("workload.deleted", "reconciled") in events
    assert [t for t, _ in events].count("pod.stopped") == 1


def _job(name: str, conditions: list[dict]) -> dict:
    return {
        "kind": "Job",
        "metadata": {"name": name, "namespace": "ns"},
        "spec": {"parallelism": 2, "completions": 4},
        "status": {"conditions": conditions, "succeeded": 4 if conditions else 1, "active": 0},
    }


def test_a_finished_job_gives_its_quota_back_once_and_keeps_its_record(workload_db: Any) -> None:
    quota = LedgerQuota(pod_limit=10)
    quota.held.update({"done": 2, "failed": 2, "running": 2})
    with workload_db.transaction() as session:
        for name in ("done", "failed", "running"):
            session.add(_row(name, [{"key": name, "pods": 2}], kind="Job"))
    complete = [{"type": "Complete", "status": "True"}]
    failed = [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}]
    cluster = FakeCluster(
        {
            ("Job", "ns", "done"): _job("done", complete),
            ("Job", "ns", "failed"): _job("failed", failed),
            ("Job", "ns", "running"): _job("running", []),
        },
        pods=[],
    )
    deps = Deps(db=workload_db, cluster=cluster, quota=quota)  # type: ignore[arg-type]

    first = reconcile(deps, PodEvents(workload_db, cluster))  # type: ignore[arg-type]
    again = reconcile(deps, PodEvents(workload_db, cluster))  # type: ignore[arg-type]

    assert (first["jobs_finished"], again["jobs_finished"]) == (2, 0)
    assert quota.held == {"running": 2}  # the running Job still holds its pods
    with workload_db.transaction() as session:
        rows = {r.name: r.quota_grants for r in session.scalars(select(Workload))}
        finished = [
            (e.payload["resource"]["name"], e.payload["data"]["state"])
            for e in session.scalars(select(OutboxEvent))
            if e.event_type == "workload.finished"
        ]
    assert rows == {"done": [], "failed": [], "running": [{"key": "running", "pods": 2}]}
    assert sorted(finished) == [("done", "complete"), ("failed", "failed")]


def test_a_delete_racing_the_reconcile_pass_announces_the_deletion_once(
    workload_db: Any,
) -> None:
    quota = LedgerQuota(pod_limit=10)
    quota.held["k"] = 2
    with workload_db.transaction() as session:
        session.add(_row("racer", [{"key": "k", "pods": 2}]))

    class ReconcilingCluster(FakeCluster):
        """The reconcile pass runs while the API's delete waits for the apiserver."""

        def delete(self, kind: str, namespace: str, name: str, propagation: str) -> None:
            with workload_db.transaction() as session:
                row = session.scalars(select(Workload)).one()
            forget_workload(deps, row)

    deps = Deps(db=workload_db, cluster=ReconcilingCluster({}, []), quota=quota)  # type: ignore[arg-type]

    assert lifecycle.delete(deps, "p1", "ns", "racer", "t")["deleted"] is True

    assert quota.held == {}
    with workload_db.transaction() as session:
        types = [e.event_type for e in session.scalars(select(OutboxEvent))]
    assert types == ["workload.deleted"]
