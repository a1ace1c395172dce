"""HPA and pod watchers: exactly-once events, resume, re-list on 410 Gone.

Real: the workload service's SQLite database (migrated) and its outbox. Faked: the cluster,
by `ScriptedCluster`, which answers `list` and `watch` from a script so that 410 Gone and a
broken stream can be produced on demand.
"""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from services.workload.exceptions import ClusterUnavailable, WatchExpired
from services.workload.hpa_watcher import handle_hpa
from services.workload.models import OutboxEvent, Workload
from services.workload.pod_watcher import PodEvents
from services.workload.watching import WatchLoop


def _workload(database: Any, replicas: int = 1) -> None:
    now = datetime.now(UTC)
    with database.transaction() as session:
        session.add(
            Workload(
                id="w1",
                project_id="p1",
                namespace="ns",
                kind="Deployment",
                name="php-apache",
                uid="u1",
                replicas=replicas,
                stopped=False,
                revision=1,
                pod_cost={},
                storage={},
                quota_grants=[],
                created_by="tester",
                created_at=now,
                updated_at=now,
            )
        )


def _hpa(desired: int, utilisation: int = 80, version: str = "1") -> dict[str, Any]:
    return {
        "metadata": {"name": "php-apache", "namespace": "ns", "resourceVersion": version},
        "spec": {
            "scaleTargetRef": {"kind": "Deployment", "name": "php-apache"},
            "metrics": [{"resource": {"name": "cpu", "target": {"averageUtilization": 50}}}],
        },
        "status": {
            "desiredReplicas": desired,
            "currentReplicas": 1,
            "currentMetrics": [
                {"resource": {"name": "cpu", "current": {"averageUtilization": utilisation}}}
            ],
        },
    }


def _events(database: Any, event_type: str) -> list[dict[str, Any]]:
    with database.transaction() as session:
        rows = session.scalars(select(OutboxEvent).where(OutboxEvent.event_type == event_type))
        return [row.payload for row in rows]


def test_hpa_change_is_announced_once_with_from_to_and_metrics(workload_db: Any) -> None:
    _workload(workload_db)

    handle_hpa(workload_db, "MODIFIED", _hpa(1))  # no change from the record
    handle_hpa(workload_db, "MODIFIED", _hpa(4))
    handle_hpa(workload_db, "MODIFIED", _hpa(4))  # a replay after a restart
    handle_hpa(workload_db, "ADDED", _hpa(4))  # a re-list

    scaled = _events(workload_db, "workload.scaled")
    assert len(scaled) == 1
    data = scaled[0]["data"]
    assert (data["from"], data["to"], data["reason"]) == (1, 4, "hpa")
    assert data["metrics"][0]["name"] == "cpu"
    assert (data["metrics"][0]["current"], data["metrics"][0]["target"]) == (80, 50)
    assert scaled[0]["actor"] == "system"

    handle_hpa(workload_db, "MODIFIED", _hpa(2, utilisation=20))
    assert [e["data"]["to"] for e in _events(workload_db, "workload.scaled")] == [4, 2]


def test_an_hpa_without_a_computation_yet_is_ignored(workload_db: Any) -> None:
    _workload(workload_db, replicas=2)
    assert handle_hpa(workload_db, "ADDED", _hpa(0)) is None
    assert _events(workload_db, "workload.scaled") == []


def test_hpa_of_an_unknown_workload_is_ignored(workload_db: Any) -> None:
    assert handle_hpa(workload_db, "ADDED", _hpa(3)) is None
    assert _events(workload_db, "workload.scaled") == []


class ScriptedCluster:
    """Fake cluster: `lists` answers list calls, `watches` is a queue of watch scripts.

    A script item that is an exception is raised from the watch stream; when the scripts run
    out, the loop is told to stop.
    """

    def __init__(self, lists: list[dict], watches: list[list[Any]]) -> None:
        self.lists, self.watches = lists, watches
        self.watched_from: list[str | None] = []
        self.loop: WatchLoop | None = None

    def list_objects(self, kind: str, namespace: Any, selector: str) -> dict:
        return self.lists.pop(0)

    def watch(self, kind: str, version: str | None, selector: str, timeout_seconds: int) -> Any:
        self.watched_from.append(version)
        if not self.watches:
            assert self.loop is not None
            self.loop.running = False
            return
        for item in self.watches.pop(0):
            if isinstance(item, Exception):
                raise item
            yield item


def test_the_loop_resumes_after_a_break_and_relists_on_gone(
    workload_db: Any, monkeypatch: Any
) -> None:
    _workload(workload_db)
    cluster = ScriptedCluster(
        lists=[
            {"metadata": {"resourceVersion": "10"}, "items": [_hpa(1, version="9")]},
            {"metadata": {"resourceVersion": "50"}, "items": [_hpa(6, version="49")]},
        ],
        watches=[
            [("MODIFIED", _hpa(3, version="11")), ClusterUnavailable("stream broke")],
            [("BOOKMARK", {"metadata": {"resourceVersion": "20"}}), WatchExpired("gone")],
            [("MODIFIED", _hpa(6, version="51"))],
        ],
    )
    loop = WatchLoop(
        "hpa",
        "HorizontalPodAutoscaler",
        "scs.io/managed=true",
        cluster,  # type: ignore[arg-type]
        workload_db,
        lambda t, o: handle_hpa(workload_db, t, o),
    )
    cluster.loop = loop
    monkeypatch.setattr("services.workload.watching.eventlet.sleep", lambda _s: None)

    loop.run()

    # resumed from 11 after the break, listed again after 410 Gone, then followed from 51
    assert cluster.watched_from == ["10", "11", "50", "51"]
    assert loop.lists == 2
    assert [e["data"]["to"] for e in _events(workload_db, "workload.scaled")] == [3, 6]


def _pod(phase: str, uid: str = "pod-1") -> dict[str, Any]:
    return {
        "metadata": {
            "uid": uid,
            "name": "web-1",
            "namespace": "ns",
            "labels": {"scs.io/project": "p1", "scs.io/workload": "web"},
            "ownerReferences": [{"kind": "ReplicaSet", "name": "web-abc"}],
        },
        "spec": {
            "nodeName": "cpu-node-1",
            "overhead": {"cpu": "250m", "memory": "160Mi"},
            "containers": [{"name": "c", "resources": {"requests": {"cpu": "100m"}}}],
        },
        "status": {"phase": phase, "startTime": "2026-12-04T19:00:00Z"},
    }


def test_pod_start_and_stop_are_announced_once_with_billing_fields(workload_db: Any) -> None:
    events = PodEvents(workload_db, cluster=None)  # type: ignore[arg-type]  # no GPU: no node read

    events.handle("ADDED", _pod("Pending"))
    events.handle("MODIFIED", _pod("Running"))
    events.handle("MODIFIED", _pod("Running"))
    events.handle("MODIFIED", _pod("Succeeded"))
    events.handle("DELETED", _pod("Succeeded"))

    started, stopped = _events(workload_db, "pod.started"), _events(workload_db, "pod.stopped")
    assert len(started) == 1 and len(stopped) == 1
    data = started[0]["data"]
    assert data["workload"] == {"kind": "Deployment", "name": "web"}
    assert (data["cpu_millicores"], data["overhead_cpu_millicores"]) == (100, 250)
    assert data["overhead_memory_bytes"] == 160 * 2**20
    assert (data["gpu_count"], data["gpu_model"], data["node"]) == (0, None, "cpu-node-1")
    assert "stopped_at" in stopped[0]["data"]


def test_a_pod_gone_while_unwatched_is_stopped_on_relist(workload_db: Any) -> None:
    events = PodEvents(workload_db, cluster=None)  # type: ignore[arg-type]
    events.handle("ADDED", _pod("Running", uid="a"))
    events.handle("ADDED", _pod("Running", uid="b"))

    events.relisted([_pod("Running", uid="b")])

    stopped = _events(workload_db, "pod.stopped")
    assert [e["resource"]["uid"] for e in stopped] == ["a"]
