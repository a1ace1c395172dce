"""Lifecycle logic that needs no cluster: a deleted namespace's workloads are forgotten.

Real: the workload database (SQLite, migrated) and its outbox. Faked: the quota service, by
`RecordingQuota`, which records the keys it is asked to release; the cluster is not used.
"""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from services.workload.deps import Deps
from services.workload.lifecycle import forget_namespace
from services.workload.models import OutboxEvent, Workload


class RecordingQuota:
    def __init__(self) -> None:
        self.released: list[str] = []

    def release(self, key: str, actor: str) -> dict[str, Any]:
        self.released.append(key)
        return {"key": key, "status": "released"}


def test_a_deleted_namespace_releases_quota_and_drops_records(workload_db: Any) -> None:
    now = datetime.now(UTC)
    with workload_db.transaction() as session:
        for name, grants in (("a", [{"key": "k1", "pods": 2}]), ("b", [{"key": "k2", "pods": 1}])):
            session.add(
                Workload(
                    id=name,
                    project_id="p1",
                    namespace="gone",
                    kind="Deployment",
                    name=name,
                    uid=None,
                    replicas=2,
                    stopped=False,
                    revision=1,
                    pod_cost={},
                    storage={},
                    quota_grants=grants,
                    created_by="t",
                    created_at=now,
                    updated_at=now,
                )
            )
    quota = RecordingQuota()
    deps = Deps(db=workload_db, cluster=None, quota=quota)  # type: ignore[arg-type]

    assert forget_namespace(deps, "p1", "gone") == 2
    assert forget_namespace(deps, "p1", "gone") == 0  # redelivery changes nothing

    assert sorted(quota.released) == ["k1", "k2"]
    with workload_db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Workload)) == 0
        types = [row.event_type for row in session.scalars(select(OutboxEvent))]
    assert types == ["workload.deleted", "workload.deleted"]
