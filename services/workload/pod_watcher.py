"""The pod watcher: `pod.started` and `pod.stopped` for billing, each exactly once per pod.

Watches the pods of platform workloads (label `scs.io/managed=true`) in every namespace. A pod
is started when it first runs on a node, stopped when it ends (Succeeded, Failed) or is deleted.
Each event carries what billing meters: requested CPU and memory, the Kata overhead, node, GPU
count and model (the node's `nvidia.com/gpu.product` label). The `pod_runs` row decides, in
the event's own transaction, whether the start or stop was announced already.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from nameko.extensions import DependencyProvider
from sqlalchemy import select

from services.workload.cluster import Cluster
from services.workload.exceptions import ObjectNotFound
from services.workload.models import OutboxEvent, PodRun
from services.workload.quota_usage import pod_cost
from services.workload.tenancy import MANAGED_LABEL, PROJECT_LABEL, WORKLOAD_LABEL
from services.workload.watching import WatchLoop
from shared.config import database_url
from shared.db import Database
from shared.events import SYSTEM_ACTOR, new_event, record_event
from shared.quantity import bytes_of, cpu_millicores

logger = logging.getLogger(__name__)

WATCH_NAME = "pods"
GPU_PRODUCT_LABEL = "nvidia.com/gpu.product"
ENDED = ("Succeeded", "Failed")


class PodEvents:
    """Turns pod states into pod.started / pod.stopped events."""

    def __init__(self, database: Database, cluster: Cluster) -> None:
        self.database = database
        self.cluster = cluster
        self._gpu_models: dict[str, str | None] = {}

    def handle(self, event_type: str, pod: dict[str, Any]) -> None:
        phase = (pod.get("status") or {}).get("phase")
        node = (pod.get("spec") or {}).get("nodeName")
        if event_type == "DELETED" or phase in ENDED:
            self._stopped(pod)
        elif phase == "Running" and node:
            self._started(pod)

    def relisted(self, pods: list[dict[str, Any]]) -> None:
        """Pods announced as started that the list no longer holds ended unseen."""
        self.stop_vanished(pods)

    def stop_vanished(self, pods: list[dict[str, Any]], before: datetime | None = None) -> int:
        """`relisted`, answering how many stops it announced.

        `before`: only runs announced before the list was taken (a reconcile's list races
        with the watch).
        """
        present = {p["metadata"]["uid"] for p in pods}
        query = select(PodRun).where(PodRun.stopped_at.is_(None))
        if before is not None:
            query = query.where(PodRun.started_at < before)
        with self.database.transaction() as session:
            missing = [r for r in session.scalars(query) if r.uid not in present]
        for run in missing:
            self._stopped(
                {
                    "metadata": {
                        "uid": run.uid,
                        "name": run.name,
                        "namespace": run.namespace,
                        "labels": {PROJECT_LABEL: run.project_id},
                    }
                }
            )
        return len(missing)

    def _started(self, pod: dict[str, Any]) -> None:
        metadata = pod["metadata"]
        with self.database.transaction() as session:
            if session.get(PodRun, metadata["uid"]) is not None:
                return
            started_at = (pod.get("status") or {}).get("startTime") or _now()
            session.add(
                PodRun(
                    uid=metadata["uid"],
                    project_id=_project(pod),
                    namespace=metadata["namespace"],
                    name=metadata["name"],
                    started_at=datetime.now(UTC),
                )
            )
            data = {**self.billing(pod), "started_at": started_at}
            self._record(session, "pod.started", pod, data)
        logger.info("pod %s/%s started", metadata["namespace"], metadata["name"])

    def _stopped(self, pod: dict[str, Any]) -> None:
        metadata = pod["metadata"]
        with self.database.transaction() as session:
            run = session.get(PodRun, metadata["uid"])
            if run is None or run.stopped_at is not None:
                return  # never announced as started, or its stop was announced already
            run.stopped_at = datetime.now(UTC)
            data = {**self.billing(pod), "stopped_at": _now()}
            self._record(session, "pod.stopped", pod, data)
        logger.info("pod %s/%s stopped", metadata["namespace"], metadata["name"])

    def billing(self, pod: dict[str, Any]) -> dict[str, Any]:
        spec = pod.get("spec") or {}
        labels = pod["metadata"].get("labels") or {}
        cost = pod_cost({"kind": "Pod", "spec": spec})
        overhead = spec.get("overhead") or {}
        node = spec.get("nodeName")
        return {
            "workload": {"kind": _owner_kind(pod), "name": labels.get(WORKLOAD_LABEL)},
            "node": node,
            "cpu_millicores": cost.cpu,
            "memory_bytes": cost.memory,
            "overhead_cpu_millicores": cpu_millicores(overhead.get("cpu", "0")),
            "overhead_memory_bytes": bytes_of(overhead.get("memory", "0")),
            "gpu_count": cost.gpu,
            "gpu_model": self._gpu_model(node) if cost.gpu and node else None,
        }

    def _gpu_model(self, node: str) -> str | None:
        if node not in self._gpu_models:
            try:
                labels = self.cluster.get("Node", None, node)["metadata"].get("labels") or {}
                self._gpu_models[node] = labels.get(GPU_PRODUCT_LABEL)
            except ObjectNotFound:
                return None
        return self._gpu_models[node]

    def _record(self, session: Any, event_type: str, pod: dict, data: dict) -> None:
        metadata = pod["metadata"]
        envelope = new_event(
            event_type,
            actor=SYSTEM_ACTOR,
            project=_project(pod),
            resource={
                "kind": "Pod",
                "namespace": metadata.get("namespace"),
                "name": metadata["name"],
                "uid": metadata["uid"],
            },
            data=data,
        )
        record_event(session, OutboxEvent, envelope)


def _project(pod: dict[str, Any]) -> str:
    return str((pod["metadata"].get("labels") or {}).get(PROJECT_LABEL) or "")


def _owner_kind(pod: dict[str, Any]) -> str | None:
    owners = pod["metadata"].get("ownerReferences") or []
    if not owners:
        return None
    kind = owners[0].get("kind")
    # Deployments own their pods through ReplicaSets; Jobs of CronJobs through the Job.
    return "Deployment" if kind == "ReplicaSet" else kind


def _now() -> str:
    return datetime.now(UTC).isoformat()


class PodWatcher(DependencyProvider):
    """Runs the pod watch in a greenthread managed by the service container."""

    def setup(self) -> None:
        url = self.container.config.get("WORKLOAD_DATABASE_URL") or database_url("workload")
        self.database = Database(url)
        self.cluster = Cluster()
        self.events = PodEvents(self.database, self.cluster)
        self.loop = WatchLoop(
            WATCH_NAME,
            "Pod",
            f"{MANAGED_LABEL}=true",
            self.cluster,
            self.database,
            self.events.handle,
            self.events.relisted,
        )

    def start(self) -> None:
        self.container.spawn_managed_thread(self.loop.run)

    def stop(self) -> None:
        self.loop.running = False
        self.cluster.close()

    def kill(self) -> None:
        self.stop()

    def get_dependency(self, worker_ctx: Any) -> WatchLoop:
        return self.loop
