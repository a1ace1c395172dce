"""Revision history and rollback, from the cluster's own records.

Deployments keep their history as ReplicaSets (annotation `deployment.kubernetes.io/revision`),
StatefulSets and DaemonSets as ControllerRevisions (`revision`). A rollback writes the chosen
revision's pod template back into the workload, which the controller then rolls out.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from services.workload.deps import Deps
from services.workload.exceptions import InvalidOperation, RevisionNotFound
from services.workload.lifecycle import load_row, replace_template
from services.workload.manifests import pod_template_path
from services.workload.models import Workload

logger = logging.getLogger(__name__)

DEPLOYMENT_REVISION = "deployment.kubernetes.io/revision"
HISTORY_KINDS = ("Deployment", "StatefulSet", "DaemonSet")


def revisions(deps: Deps, project_id: str, namespace: str, name: str) -> list[dict[str, Any]]:
    row = load_row(deps, project_id, namespace, name)
    return [
        {
            "revision": number,
            "images": [c.get("image") for c in template["spec"].get("containers") or []],
            "created_at": created,
        }
        for number, template, created in sorted(_history(deps, row), key=lambda r: r[0])
    ]


def rollback(
    deps: Deps, project_id: str, namespace: str, name: str, revision: int | None, actor: str
) -> dict[str, Any]:
    """Back to `revision`, or to the one before the current when None."""
    row = load_row(deps, project_id, namespace, name)
    history = sorted(_history(deps, row), key=lambda r: r[0])
    if revision is None:
        if len(history) < 2:
            raise RevisionNotFound("there is no earlier revision", {"field": "revision"})
        revision = history[-2][0]
    chosen = [template for number, template, _ in history if number == revision]
    if not chosen:
        raise RevisionNotFound(
            f"{name} has no revision {revision}",
            {"field": "revision", "known": [number for number, _, _ in history]},
        )
    body = deps.cluster.get(row.kind, namespace, name)
    before = copy.deepcopy(body["spec"]["template"])
    body["spec"]["template"] = chosen[0]
    logger.info("rolling %s %s/%s back to revision %s", row.kind, namespace, name, revision)
    data = {"to_revision": revision}
    return replace_template(deps, row, body, actor, "workload.rolled_back", data, before)


def _history(deps: Deps, row: Workload) -> list[tuple[int, dict[str, Any], str | None]]:
    if row.kind not in HISTORY_KINDS:
        raise InvalidOperation(f"a {row.kind} keeps no revision history", {"kind": row.kind})
    body = deps.cluster.get(row.kind, row.namespace, row.name)
    uid = body["metadata"]["uid"]
    selector = ",".join(
        f"{k}={v}" for k, v in (body["spec"]["selector"].get("matchLabels") or {}).items()
    )
    if row.kind == "Deployment":
        return _replica_sets(deps, row, uid, selector)
    return _controller_revisions(deps, row, uid, selector, body)


def _owned(item: dict[str, Any], uid: str) -> bool:
    return any(ref.get("uid") == uid for ref in item["metadata"].get("ownerReferences") or [])


def _replica_sets(deps: Deps, row: Workload, uid: str, selector: str) -> list[tuple]:
    items = deps.cluster.list_objects("ReplicaSet", row.namespace, selector).get("items") or []
    history = []
    for item in items:
        number = (item["metadata"].get("annotations") or {}).get(DEPLOYMENT_REVISION)
        if not _owned(item, uid) or number is None:
            continue
        template = copy.deepcopy(item["spec"]["template"])
        template["metadata"].get("labels", {}).pop("pod-template-hash", None)
        history.append((int(number), template, item["metadata"].get("creationTimestamp")))
    return history


def _controller_revisions(
    deps: Deps, row: Workload, uid: str, selector: str, body: dict[str, Any]
) -> list[tuple]:
    items = (
        deps.cluster.list_objects("ControllerRevision", row.namespace, selector).get("items") or []
    )
    history = []
    for item in items:
        if not _owned(item, uid):
            continue
        # The revision's data is a patch holding the whole template; merge it over the current.
        patch = ((item.get("data") or {}).get("spec") or {}).get("template") or {}
        template = copy.deepcopy(patch)
        template.pop("$patch", None)
        template.setdefault("metadata", copy.deepcopy(body["spec"]["template"]["metadata"]))
        history.append(
            (int(item["revision"]), template, item["metadata"].get("creationTimestamp"))
        )
    return history


def template_path(kind: str) -> tuple[str, ...]:
    return pod_template_path(kind)
