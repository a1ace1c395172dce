"""Reconciling the service's records with the cluster (at start and on a timer).

The database may outlive the cluster's state (a wiped etcd, a namespace deleted behind the
platform's back, an object removed with kubectl). One pass:
- a workload whose object (or namespace) no longer exists is gone: its quota is released and
  `workload.deleted` (reason `reconciled`) is emitted with the record's removal;
- rollout headroom (surge grants) of a rollout that completed is released;
- a Job that finished (Complete or Failed) runs no more pods: its quota is released and
  `workload.finished` is emitted (as Kubernetes' ResourceQuota stops counting ended pods);
- a pod announced as started that no longer exists gets its `pod.stopped`.
A cluster that does not answer ends the pass early and changes nothing.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from services.workload import grants, records
from services.workload.deps import Deps
from services.workload.exceptions import ObjectNotFound, WorkloadNotFound
from services.workload.models import Workload
from services.workload.observe import rollout_status
from services.workload.pod_watcher import PodEvents
from services.workload.tenancy import MANAGED_LABEL
from shared.events import SYSTEM_ACTOR

logger = logging.getLogger(__name__)

INTERVAL_SECONDS = 60
REASON = "reconciled"


def reconcile(deps: Deps, pod_events: PodEvents) -> dict[str, int]:
    """One pass; answers how many workloads were gone, surges settled, Jobs finished and pods
    stopped."""
    with deps.db.transaction() as session:
        rows = list(session.scalars(select(Workload)))
    gone = settled = finished = 0
    for row in rows:
        try:
            body = deps.cluster.get(row.kind, row.namespace, row.name)
        except ObjectNotFound:
            gone += forget_workload(deps, row)
            continue
        if row.kind == "Job" and row.quota_grants and _finished(body):
            finished += release_finished_job(deps, row, body)
        elif grants.surge_grants(row.quota_grants) and _rolled_out(body):
            settled += settle_surge(deps, row)
    stopped = _stop_vanished_pods(deps, pod_events)
    if gone or settled or finished or stopped:
        logger.info(
            "reconciled: %s workloads gone, %s surges settled, %s jobs finished, %s pods stopped",
            gone,
            settled,
            finished,
            stopped,
        )
    return {
        "workloads_gone": gone,
        "surges_settled": settled,
        "jobs_finished": finished,
        "pods_stopped": stopped,
    }


def forget_workload(deps: Deps, row: Workload) -> int:
    """The object is gone from the cluster: release its quota and drop its record (once)."""
    with deps.db.transaction() as session:
        try:
            current = records.find(session, row.project_id, row.namespace, row.name)
        except WorkloadNotFound:
            return 0  # deleted meanwhile through the API
        if current.id != row.id:
            return 0
        held = list(current.quota_grants)
        data = {"replicas": current.replicas, "reason": REASON}
        records.emit(session, "workload.deleted", current, SYSTEM_ACTOR, data)
        session.delete(current)
    grants.release_all(deps.quota, held, SYSTEM_ACTOR)
    logger.info(
        "%s %s/%s is gone from the cluster; record and quota released",
        row.kind,
        row.namespace,
        row.name,
    )
    return 1


def settle_surge(deps: Deps, row: Workload) -> int:
    """The rollout completed: the headroom for its surge pods goes back to the project."""
    with deps.db.transaction() as session:
        current = records.find(session, row.project_id, row.namespace, row.name)
        surge = grants.surge_grants(current.quota_grants)
        current.quota_grants = grants.without_surge(current.quota_grants)
    grants.release_all(deps.quota, surge, SYSTEM_ACTOR)
    logger.info("released rollout headroom of %s %s/%s", row.kind, row.namespace, row.name)
    return 1 if surge else 0


def release_finished_job(deps: Deps, row: Workload, body: dict[str, Any]) -> int:
    """The Job ended: its pods' quota goes back to the project; the record stays (logs, YAML)
    until the Job is deleted."""
    status = rollout_status(body)
    with deps.db.transaction() as session:
        try:
            current = records.find(session, row.project_id, row.namespace, row.name)
        except WorkloadNotFound:
            return 0
        if current.id != row.id or not current.quota_grants:
            return 0
        held = list(current.quota_grants)
        current.quota_grants = []
        data = {k: status.get(k, 0) for k in ("succeeded", "failed")}
        records.emit(
            session, "workload.finished", current, SYSTEM_ACTOR, {"state": status["state"], **data}
        )
    grants.release_all(deps.quota, held, SYSTEM_ACTOR)
    logger.info("job %s/%s %s; its quota is released", row.namespace, row.name, status["state"])
    return 1


def _finished(body: dict[str, Any]) -> bool:
    return rollout_status(body)["state"] in ("complete", "failed")


def _rolled_out(body: dict[str, Any]) -> bool:
    return rollout_status(body)["state"] == "complete"


def _stop_vanished_pods(deps: Deps, pod_events: PodEvents) -> int:
    listed_at = datetime.now(UTC)
    pods = deps.cluster.list_objects("Pod", None, f"{MANAGED_LABEL}=true").get("items") or []
    return pod_events.stop_vanished(pods, before=listed_at)
