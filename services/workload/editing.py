"""Editing a workload as YAML: the whole object replaced, under the same rules as a create.

The new document must be one workload of the same kind and name. It goes through the same
checks (counts, isolation, labels, Kata, GPU placement when it asks for GPUs and what the
placement reads changed), is re-priced (pod cost and replica count), and replaces the object's
spec, labels and annotations in the cluster; the quota follows as for an update.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from services.workload import gpus, grants, preflight
from services.workload.creation import prepare_workload
from services.workload.deps import Deps
from services.workload.exceptions import InvalidManifest, InvalidOperation
from services.workload.lifecycle import SCALABLE, load_row, plan_rollout_surge, quota_pods, save
from services.workload.manifests import (
    WORKLOAD,
    dig,
    pod_template_path,
    read_documents,
    replicas_of,
)
from services.workload.quota_usage import pod_cost

logger = logging.getLogger(__name__)


def edit_yaml(
    deps: Deps, project_id: str, namespace: str, name: str, manifest: Any, actor: str
) -> dict[str, Any]:
    row = load_row(deps, project_id, namespace, name)
    documents = read_documents(manifest)
    if len(documents) != 1 or documents[0].role != WORKLOAD:
        raise InvalidManifest("give exactly one workload document", {"field": "manifest"})
    doc = documents[0]
    if doc.kind != row.kind:
        raise InvalidOperation(
            f"{name} is a {row.kind}; its kind cannot change", {"field": "kind"}
        )
    if doc.name != name:
        raise InvalidOperation(f"the name must stay {name}", {"field": "metadata.name"})
    if row.stopped:
        raise InvalidOperation(f"{name} is stopped; start it first", {"field": "manifest"})
    preflight.check(doc)
    prepare_workload(doc, project_id, namespace)
    spec = doc.body.setdefault("spec", {})
    if row.kind in SCALABLE and "replicas" not in spec:
        # As `kubectl apply` does: a manifest that names no replicas keeps the current count,
        # so an edit does not undo the autoscaler's (or the last manual) scale.
        spec["replicas"] = row.replicas
    if pod_cost(doc.body).gpu:
        current = deps.cluster.get(row.kind, namespace, name)
        before = dig(current, pod_template_path(row.kind))
        gpus.replace(deps.owners.get("gpu"), project_id, doc.body, before, actor)

    cost = pod_cost(doc.body)
    replicas = replicas_of(doc.body) if row.kind in SCALABLE else row.replicas
    pods = quota_pods(row, replicas)
    if cost.to_dict() != row.pod_cost:
        change = grants.plan_replacement(
            deps.quota, project_id, row.id, row.quota_grants, cost, pods, actor, row.storage
        )
    else:
        change = grants.plan(
            deps.quota, project_id, row.id, row.quota_grants, cost, pods, actor, row.storage
        )
    # A replacement releases the old rollout headroom with the old grants.
    replaced = cost.to_dict() != row.pod_cost
    held_surge = [] if replaced else row.quota_grants
    try:
        surge = plan_rollout_surge(deps, row, doc.body, held_surge, actor, replicas)
    except Exception:
        grants.abort(deps.quota, change)
        raise
    try:
        deps.cluster.update(row.kind, namespace, name, _replace_with(doc.body))
    except Exception:
        grants.abort(deps.quota, change)
        grants.abort(deps.quota, surge)
        raise
    held = grants.without_surge(grants.finish(deps.quota, change, row.id))
    held += grants.finish(deps.quota, surge, row.id)
    logger.info("replaced %s %s/%s from YAML", row.kind, namespace, name)
    template = dig(doc.body, pod_template_path(row.kind)) or {}
    return save(
        deps,
        row,
        actor,
        "workload.updated",
        {"changed": ["yaml"], "replicas": replicas},
        template=template,
        pod_cost=cost.to_dict(),
        quota_grants=held,
        replicas=replicas,
    )


def _replace_with(new: dict[str, Any]) -> Any:
    def mutate(body: dict[str, Any]) -> None:
        body["spec"] = copy.deepcopy(new["spec"])
        for key in ("labels", "annotations"):
            body["metadata"][key] = copy.deepcopy(new["metadata"].get(key) or {})

    return mutate
