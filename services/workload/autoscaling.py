"""Autoscaling policy: an autoscaling/v2 HPA on CPU and/or memory utilisation per workload.

The quota ledger pays for the HPA's maxReplicas, so the HPA controller can never take the
project over a limit; removing the policy shrinks the grants back to the replica count.
"""

from __future__ import annotations

import logging
from typing import Any

from services.workload import grants
from services.workload.deps import Deps
from services.workload.exceptions import InvalidOperation, ObjectNotFound, WorkloadExists
from services.workload.lifecycle import SCALABLE, load_row, save
from services.workload.models import Workload
from services.workload.tenancy import MANAGED_LABEL, PROJECT_LABEL

logger = logging.getLogger(__name__)


def hpa_manifest(row: Workload, policy: dict[str, Any]) -> dict[str, Any]:
    metrics = [
        {
            "type": "Resource",
            "resource": {
                "name": resource,
                "target": {"type": "Utilization", "averageUtilization": policy[key]},
            },
        }
        for resource, key in (("cpu", "cpu_utilization"), ("memory", "memory_utilization"))
        if policy.get(key)
    ]
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {
            "name": row.name,
            "namespace": row.namespace,
            "labels": {MANAGED_LABEL: "true", PROJECT_LABEL: row.project_id},
        },
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": row.kind, "name": row.name},
            "minReplicas": policy.get("min_replicas", 1),
            "maxReplicas": policy["max_replicas"],
            "metrics": metrics,
        },
    }


def set_autoscaling(
    deps: Deps, project_id: str, namespace: str, name: str, policy: dict[str, Any], actor: str
) -> dict[str, Any]:
    row = load_row(deps, project_id, namespace, name)
    if row.kind not in SCALABLE:
        raise InvalidOperation(f"a {row.kind} cannot autoscale", {"kind": row.kind})
    if not policy.get("enabled", True):
        return _remove(deps, row, actor)

    pods = 0 if row.stopped else max(row.replicas, policy["max_replicas"])
    change = grants.plan(
        deps.quota,
        project_id,
        row.id,
        row.quota_grants,
        grants.cost_from(row.pod_cost),
        pods,
        actor,
        row.storage,
    )
    body = hpa_manifest(row, policy)
    try:
        _create_or_replace(deps, namespace, body)
    except Exception:
        grants.abort(deps.quota, change)
        raise
    held = grants.finish(deps.quota, change, row.id)
    logger.info("set autoscaling of %s/%s: %s", namespace, name, body["spec"])
    data = {"changed": ["autoscaling"], "autoscaling": body["spec"]}
    return save(
        deps,
        row,
        actor,
        "workload.updated",
        data,
        hpa_max=policy["max_replicas"],
        quota_grants=held,
    )


def _remove(deps: Deps, row: Workload, actor: str) -> dict[str, Any]:
    try:
        deps.cluster.delete("HorizontalPodAutoscaler", row.namespace, row.name, "Background")
    except ObjectNotFound:
        logger.debug("no HPA for %s/%s", row.namespace, row.name)
    pods = 0 if row.stopped else row.replicas
    change = grants.plan(
        deps.quota,
        row.project_id,
        row.id,
        row.quota_grants,
        grants.cost_from(row.pod_cost),
        pods,
        actor,
        row.storage,
    )
    held = grants.finish(deps.quota, change, row.id)
    data = {"changed": ["autoscaling"], "autoscaling": None}
    return save(deps, row, actor, "workload.updated", data, hpa_max=None, quota_grants=held)


def _create_or_replace(deps: Deps, namespace: str, body: dict[str, Any]) -> None:
    try:
        deps.cluster.create(namespace, body)
    except WorkloadExists:
        current = deps.cluster.get("HorizontalPodAutoscaler", namespace, body["metadata"]["name"])
        body["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        deps.cluster.replace(namespace, body)
