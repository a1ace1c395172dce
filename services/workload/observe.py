"""Reading a workload's state from the cluster: status, rollout, pods, pod YAML, logs, metrics.

Pods are found by the `scs.io/workload` label the platform puts on every pod template, and
only in the workload's own namespace, so a caller never sees another project's pods.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import yaml

from services.workload import records
from services.workload.cluster import Cluster, LogFollow
from services.workload.deps import Deps
from services.workload.exceptions import (
    ClusterUnavailable,
    LogsUnavailable,
    ObjectNotFound,
    PodNotFound,
)
from services.workload.lifecycle import load_row
from services.workload.models import Workload
from services.workload.tenancy import WORKLOAD_LABEL, require_project_namespace
from shared.quantity import bytes_of, cpu_millicores

logger = logging.getLogger(__name__)

# Kinds whose controllers report a failed pod create only as events on the object.
EVENT_REPORTED = ("StatefulSet", "DaemonSet", "Job")
# A FailedCreate event older than this no longer marks the rollout stuck (retries renew it).
STUCK_EVENT_WINDOW_SECONDS = 300


def describe(deps: Deps, project_id: str, namespace: str, name: str) -> dict[str, Any]:
    row = load_row(deps, project_id, namespace, name)
    try:
        body = deps.cluster.get(row.kind, namespace, name)
    except ObjectNotFound:
        return {**records.view(row), "rollout": {"state": "missing"}}
    rollout = rollout_status(body)
    if rollout["state"] == "progressing" and row.kind in EVENT_REPORTED:
        rollout = _stuck_by_events(deps.cluster, body) or rollout
    return {**records.view(row), "rollout": rollout}


def rollout_status(body: dict[str, Any]) -> dict[str, Any]:
    """Whether the latest spec has rolled out: progressing, complete, failed or suspended."""
    kind, spec, status = body["kind"], body.get("spec") or {}, body.get("status") or {}
    observed = status.get("observedGeneration", 0) >= body["metadata"].get("generation", 0)
    if kind == "Deployment":
        return _deployment_status(spec, status, observed)
    if kind == "StatefulSet":
        want = spec.get("replicas", 1)
        done = (
            observed
            and status.get("updatedReplicas", 0) >= want
            and status.get("readyReplicas", 0) >= want
            and status.get("currentRevision") == status.get("updateRevision")
        ) or (observed and want == 0)
        return _state(done, status, ("replicas", "readyReplicas", "updatedReplicas"))
    if kind == "DaemonSet":
        want = status.get("desiredNumberScheduled", 0)
        done = (
            observed
            and status.get("updatedNumberScheduled", 0) >= want
            and status.get("numberAvailable", 0) >= want
        )
        return _state(done, status, ("desiredNumberScheduled", "numberAvailable"))
    if kind == "Job":
        return _job_status(spec, status)
    state = "suspended" if spec.get("suspend") else "scheduled"
    return {
        "state": state,
        "active": len(status.get("active") or []),
        "last_schedule_time": status.get("lastScheduleTime"),
    }


def _deployment_status(spec: dict, status: dict, observed: bool) -> dict[str, Any]:
    for condition in status.get("conditions") or []:
        if condition.get("reason") == "ProgressDeadlineExceeded":
            return {"state": "failed", "message": condition.get("message")}
    for condition in status.get("conditions") or []:
        # Copied from the ReplicaSet: it cannot create pods (quota, missing requests, ...).
        if condition.get("type") == "ReplicaFailure" and condition.get("status") == "True":
            return _stuck(condition.get("reason"), condition.get("message"), status)
    want = spec.get("replicas", 1)
    done = (
        observed
        and status.get("updatedReplicas", 0) >= want
        and status.get("availableReplicas", 0) >= want
        and status.get("replicas", 0) == want
    ) or (observed and want == 0 and not status.get("replicas"))
    return _state(done, status, ("replicas", "updatedReplicas", "availableReplicas"))


def _job_status(spec: dict, status: dict) -> dict[str, Any]:
    conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
    if conditions.get("Complete") == "True":
        state = "complete"
    elif conditions.get("Failed") == "True":
        state = "failed"
    elif spec.get("suspend"):
        state = "suspended"
    else:
        state = "progressing"
    return {
        "state": state,
        "active": status.get("active", 0),
        "succeeded": status.get("succeeded", 0),
        "failed": status.get("failed", 0),
    }


def _stuck(reason: str | None, message: str | None, status: dict) -> dict[str, Any]:
    counts = {k: status.get(k, 0) for k in ("replicas", "updatedReplicas", "availableReplicas")}
    return {"state": "stuck", "reason": reason or "FailedCreate", "message": message, **counts}


def _stuck_by_events(cluster: Cluster, body: dict[str, Any]) -> dict[str, Any] | None:
    """A controller that cannot create pods says so in FailedCreate events on the object."""
    meta = body["metadata"]
    selector = f"involvedObject.name={meta['name']},reason=FailedCreate"
    path = f"/api/v1/namespaces/{meta['namespace']}/events"
    items = cluster.request("GET", path, query={"fieldSelector": selector}).get("items") or []
    recent = [e for e in items if _age_seconds(_event_time(e)) <= STUCK_EVENT_WINDOW_SECONDS]
    if not recent:
        return None
    latest = max(recent, key=_event_time)
    return _stuck("FailedCreate", latest.get("message"), body.get("status") or {})


def _event_time(event: dict[str, Any]) -> str:
    return str(event.get("lastTimestamp") or event.get("eventTime") or "")


def _age_seconds(stamp: str) -> float:
    try:
        at = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return float("inf")
    return (datetime.now(UTC) - at).total_seconds()


def _state(done: bool, status: dict, keys: tuple[str, ...]) -> dict[str, Any]:
    return {"state": "complete" if done else "progressing", **{k: status.get(k, 0) for k in keys}}


def list_workloads(deps: Deps, project_id: str, namespace: str | None) -> list[dict[str, Any]]:
    with deps.db.transaction() as session:
        return [records.view(row) for row in records.list_rows(session, project_id, namespace)]


def pods(deps: Deps, project_id: str, namespace: str, name: str) -> list[dict[str, Any]]:
    row = load_row(deps, project_id, namespace, name)
    found = deps.cluster.list_objects("Pod", namespace, f"{WORKLOAD_LABEL}={row.name}")
    return [pod_view(pod) for pod in found.get("items") or []]


def pod_view(pod: dict[str, Any]) -> dict[str, Any]:
    status = pod.get("status") or {}
    containers = status.get("containerStatuses") or []
    return {
        "name": pod["metadata"]["name"],
        "uid": pod["metadata"].get("uid"),
        "phase": status.get("phase"),
        "node": (pod.get("spec") or {}).get("nodeName"),
        "ip": status.get("podIP"),
        "restarts": sum(int(c.get("restartCount", 0)) for c in containers),
        "ready": all(c.get("ready") for c in containers) if containers else False,
        "started_at": status.get("startTime"),
        "deleting": pod["metadata"].get("deletionTimestamp") is not None,
    }


def project_pod(cluster: Cluster, project_id: str, namespace: str, pod: str) -> dict[str, Any]:
    """A pod of a tenant namespace of the project (PodNotFound otherwise)."""
    require_project_namespace(cluster, project_id, namespace)
    try:
        return cluster.get("Pod", namespace, pod)
    except ObjectNotFound as exc:
        raise PodNotFound(
            f"no pod {pod} in namespace {namespace}", {"namespace": namespace, "name": pod}
        ) from exc


def pod_yaml(deps: Deps, project_id: str, namespace: str, pod: str) -> dict[str, Any]:
    body = project_pod(deps.cluster, project_id, namespace, pod)
    body["metadata"].pop("managedFields", None)
    return {"name": pod, "yaml": yaml.safe_dump(body, sort_keys=False)}


def delete_pod(deps: Deps, project_id: str, namespace: str, pod: str, actor: str) -> dict:
    project_pod(deps.cluster, project_id, namespace, pod)
    deps.cluster.delete("Pod", namespace, pod, propagation="Background")
    logger.info("deleted pod %s/%s for %s", namespace, pod, actor)
    return {"deleted": True, "namespace": namespace, "name": pod}


def logs(deps: Deps, project_id: str, namespace: str, pod: str, options: dict) -> dict:
    project_pod(deps.cluster, project_id, namespace, pod)
    try:
        text = deps.cluster.pod_logs(namespace, pod, _log_query(options))
    except ClusterUnavailable as exc:
        _raise_logs_unavailable(exc, namespace, pod)
        raise
    return {
        "namespace": namespace,
        "pod": pod,
        "container": options.get("container"),
        "lines": text.splitlines(),
    }


def follow_logs(
    deps: Deps, project_id: str, namespace: str, pod: str, options: dict, max_seconds: int
) -> LogFollow:
    """An open followed log of a pod of the project (errors come before any line)."""
    project_pod(deps.cluster, project_id, namespace, pod)
    try:
        return deps.cluster.follow_pod_logs(namespace, pod, _log_query(options), max_seconds)
    except ClusterUnavailable as exc:
        _raise_logs_unavailable(exc, namespace, pod)
        raise


def pod_ended(cluster: Cluster, namespace: str, pod: str) -> bool:
    """Gone, being deleted, or finished (Succeeded/Failed); a failed check is not an end."""
    try:
        body = cluster.get("Pod", namespace, pod)
    except ObjectNotFound:
        return True
    except ClusterUnavailable:
        logger.warning("could not check pod %s/%s for a followed log", namespace, pod)
        return False
    phase = (body.get("status") or {}).get("phase")
    return body["metadata"].get("deletionTimestamp") is not None or phase in (
        "Succeeded",
        "Failed",
    )


def _raise_logs_unavailable(exc: ClusterUnavailable, namespace: str, pod: str) -> None:
    """A 405 from the node means it serves no logs; other failures stay as they are."""
    if exc.details.get("status") == 405:
        raise LogsUnavailable(
            f"the node of pod {pod} serves no logs (a simulated node without log emulation)",
            {"namespace": namespace, "pod": pod},
        ) from exc


def _log_query(options: dict) -> dict[str, Any]:
    return {
        "container": options.get("container"),
        "tailLines": options.get("tail_lines"),
        "sinceSeconds": options.get("since_seconds"),
        "previous": "true" if options.get("previous") else None,
        "limitBytes": options.get("limit_bytes"),
        "timestamps": "true",
    }


def metrics(deps: Deps, project_id: str, namespace: str, name: str) -> dict[str, Any]:
    """CPU (millicores) and memory (bytes) per pod and summed, from metrics.k8s.io."""
    row = load_row(deps, project_id, namespace, name)
    items = deps.cluster.pod_metrics(namespace, f"{WORKLOAD_LABEL}={row.name}")
    per_pod = [_pod_usage(item) for item in items]
    return {
        "workload": records.resource_of(row),
        "pods": per_pod,
        "cpu_millicores": sum(p["cpu_millicores"] for p in per_pod),
        "memory_bytes": sum(p["memory_bytes"] for p in per_pod),
    }


def usage_millicores(value: str) -> int:
    """CPU usage as the metrics API writes it (often nanocores, "149994821n") in millicores."""
    for suffix, per_milli in (("n", 1_000_000), ("u", 1_000)):
        if value.endswith(suffix) and value[:-1].isdigit():
            return int((Decimal(value[:-1]) / per_milli).to_integral_value(ROUND_HALF_UP))
    return cpu_millicores(value)


def _pod_usage(item: dict[str, Any]) -> dict[str, Any]:
    containers = item.get("containers") or []
    cpu = sum(usage_millicores((c.get("usage") or {}).get("cpu", "0")) for c in containers)
    memory = sum(bytes_of((c.get("usage") or {}).get("memory", "0")) for c in containers)
    return {
        "name": item["metadata"]["name"],
        "cpu_millicores": cpu,
        "memory_bytes": memory,
        "timestamp": item.get("timestamp"),
        "window": item.get("window"),
    }


def row_of(deps: Deps, project_id: str, namespace: str, name: str) -> Workload:
    return load_row(deps, project_id, namespace, name)
