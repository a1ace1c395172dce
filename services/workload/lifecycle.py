"""Changing a workload: scale, stop/start, redeploy, update, strategy, scheduling, delete.

Each action reads the workload's record, reserves quota first when it needs more, changes the
cluster, then commits (or releases on failure) and records the change with its event in one
transaction. Re-running an action that already happened changes nothing and emits nothing.
"""

from __future__ import annotations

import copy
import logging
from datetime import UTC, datetime
from typing import Any

from services.workload import forms, gpus, grants, isolation, records
from services.workload.deps import Deps
from services.workload.exceptions import InvalidOperation, ObjectNotFound, WorkloadNotFound
from services.workload.manifests import dig, ensure_pod_spec, pod_template_path
from services.workload.models import Workload
from services.workload.quota_usage import fill_default_requests, pod_cost
from shared.events import SYSTEM_ACTOR

logger = logging.getLogger(__name__)

SCALABLE = ("Deployment", "StatefulSet")
SUSPENDABLE = ("Job", "CronJob")
ROLLING = ("Deployment", "StatefulSet", "DaemonSet")
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
STOPPED_NODE_LABEL = "scs.io/stopped"


def load_row(deps: Deps, project_id: str, namespace: str, name: str) -> Workload:
    with deps.db.transaction() as session:
        return records.find(session, project_id, namespace, name)


def quota_pods(row: Workload, replicas: int) -> int:
    """Pods the ledger must pay for: replicas, or the HPA's maximum when one is set."""
    return max(replicas, row.hpa_max or 0)


def scale(
    deps: Deps, project_id: str, namespace: str, name: str, replicas: int, actor: str
) -> dict[str, Any]:
    row = load_row(deps, project_id, namespace, name)
    if row.kind not in SCALABLE:
        raise InvalidOperation(
            f"a {row.kind} has no replica count to scale", {"field": "replicas", "kind": row.kind}
        )
    if row.stopped:
        raise InvalidOperation(f"{name} is stopped; start it first", {"field": "replicas"})
    if row.replicas == replicas:
        return records.view(row)

    previous = row.replicas
    _change_pods(deps, row, replicas, actor, {"spec": {"replicas": replicas}})
    data = {"from": previous, "to": replicas, "reason": "manual", "metrics": [], "at": _now()}
    return save(deps, row, actor, "workload.scaled", data, replicas=replicas)


def stop(deps: Deps, project_id: str, namespace: str, name: str, actor: str) -> dict[str, Any]:
    row = load_row(deps, project_id, namespace, name)
    if row.stopped:
        return records.view(row)
    patch = _stop_patch(row)
    deps.cluster.patch(row.kind, namespace, name, patch)
    grants.release_all(deps.quota, row.quota_grants, actor)
    logger.info("stopped %s %s/%s (remembering %s)", row.kind, namespace, name, row.replicas)
    return save(
        deps,
        row,
        actor,
        "workload.stopped",
        {"remembered_replicas": row.replicas},
        stopped=True,
        remembered_replicas=row.replicas,
        quota_grants=[],
    )


def start(deps: Deps, project_id: str, namespace: str, name: str, actor: str) -> dict[str, Any]:
    row = load_row(deps, project_id, namespace, name)
    if not row.stopped:
        return records.view(row)
    replicas = row.remembered_replicas if row.remembered_replicas is not None else row.replicas
    _change_pods(deps, row, replicas, actor, _start_patch(row, replicas), pods_now=0)
    logger.info("started %s %s/%s with %s pods", row.kind, namespace, name, replicas)
    return save(
        deps,
        row,
        actor,
        "workload.started",
        {"replicas": replicas},
        stopped=False,
        replicas=replicas,
        remembered_replicas=None,
    )


def redeploy(deps: Deps, project_id: str, namespace: str, name: str, actor: str) -> dict[str, Any]:
    row = load_row(deps, project_id, namespace, name)
    if row.kind not in ROLLING:
        raise InvalidOperation(f"a {row.kind} cannot be redeployed", {"kind": row.kind})
    at = _now()
    patch = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: at}}}}}
    body = deps.cluster.get(row.kind, namespace, name)
    surge = plan_rollout_surge(deps, row, body, row.quota_grants, actor)
    try:
        deps.cluster.patch(row.kind, namespace, name, patch)
    except Exception:
        grants.abort(deps.quota, surge)
        raise
    held = grants.without_surge(row.quota_grants) + grants.finish(deps.quota, surge, row.id)
    logger.info("redeployed %s %s/%s", row.kind, namespace, name)
    return save(deps, row, actor, "workload.redeployed", {"at": at}, quota_grants=held)


def plan_rollout_surge(
    deps: Deps,
    row: Workload,
    body: dict[str, Any],
    held: list[dict],
    actor: str,
    replicas: int | None = None,
) -> grants.GrantChange:
    """Reserve the pods a rollout runs beyond what the grants pay for (maxSurge headroom)."""
    replicas = 0 if row.stopped else (row.replicas if replicas is None else replicas)
    surge = grants.surge_pods(body, replicas)
    needed = max(0, replicas + surge - quota_pods(row, replicas)) if surge else 0
    cost = pod_cost(body)
    return grants.plan_surge(
        deps.quota, row.project_id, row.id, held, cost, needed, actor, row.storage
    )


def update(
    deps: Deps, project_id: str, namespace: str, name: str, change: dict[str, Any], actor: str
) -> dict[str, Any]:
    """Image, env, resources of named containers; labels of the object and its pods."""
    row = load_row(deps, project_id, namespace, name)
    body = deps.cluster.get(row.kind, namespace, name)
    template = dig(body, pod_template_path(row.kind))
    before = copy.deepcopy(template)
    changed = _apply_container_changes(template, change.get("containers") or [])
    if change.get("labels"):
        _apply_labels(body, change["labels"])
        changed.append("labels")
    data = {"changed": changed}
    return replace_template(deps, row, body, actor, "workload.updated", data, before)


def set_strategy(
    deps: Deps, project_id: str, namespace: str, name: str, form: dict[str, Any], actor: str
) -> dict[str, Any]:
    row = load_row(deps, project_id, namespace, name)
    if row.kind not in ROLLING:
        raise InvalidOperation(f"a {row.kind} has no update strategy", {"kind": row.kind})
    if form.get("partition") is not None and row.kind != "StatefulSet":
        raise InvalidOperation("partition applies to StatefulSets only", {"field": "partition"})
    field, value = forms.strategy(row.kind, form)

    def mutate(body: dict[str, Any]) -> None:
        body["spec"][field] = value

    deps.cluster.update(row.kind, namespace, name, mutate)
    logger.info("set the update strategy of %s %s/%s", row.kind, namespace, name)
    return save(deps, row, actor, "workload.updated", {"changed": ["strategy"], field: value})


def set_scheduling(
    deps: Deps, project_id: str, namespace: str, name: str, form: dict[str, Any], actor: str
) -> dict[str, Any]:
    """Replace node selector, required node affinity and tolerations of the pod template."""
    row = load_row(deps, project_id, namespace, name)
    body = deps.cluster.get(row.kind, namespace, name)
    before = copy.deepcopy(dig(body, pod_template_path(row.kind)))
    spec = dig(body, pod_template_path(row.kind))["spec"]
    for key in ("nodeSelector", "affinity", "tolerations"):
        spec.pop(key, None)
    spec.update(forms.scheduling(form))
    data = {"changed": ["scheduling"]}
    return replace_template(deps, row, body, actor, "workload.updated", data, before)


def replace_template(
    deps: Deps,
    row: Workload,
    body: dict[str, Any],
    actor: str,
    event: str,
    data: dict,
    before: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Write a changed object back, re-checking isolation, GPU placement and the quota.

    `before` is the pod template being replaced: a template asking for GPUs is placed again
    by the gpu service (as on create) when what the placement reads changed, or always when
    `before` is unknown; a refusal comes before anything is reserved or changed.
    """
    isolation.check(body)
    isolation.force_kata(body)
    fill_default_requests(body)
    if row.stopped and row.kind == "DaemonSet":
        # a stopped DaemonSet keeps the selector no node carries (a new scheduling policy or
        # an older revision would otherwise bring its pods back unpaid)
        ensure_pod_spec(body).setdefault("nodeSelector", {})[STOPPED_NODE_LABEL] = "true"
    gpus.replace(deps.owners.get("gpu"), row.project_id, body, before, actor)
    cost = pod_cost(body)
    pods = 0 if row.stopped else quota_pods(row, row.replicas)
    change = None
    if cost.to_dict() != row.pod_cost and pods:
        change = grants.plan_replacement(
            deps.quota, row.project_id, row.id, row.quota_grants, cost, pods, actor, row.storage
        )
    # A replacement releases the old headroom with the old grants; otherwise it may be kept.
    held_surge = [] if change else row.quota_grants
    try:
        surge = plan_rollout_surge(deps, row, body, held_surge, actor)
    except Exception:
        if change is not None:
            grants.abort(deps.quota, change)
        raise
    try:
        deps.cluster.update(row.kind, row.namespace, row.name, _same_template(row.kind, body))
    except Exception:
        for pending in (change, surge):
            if pending is not None:
                grants.abort(deps.quota, pending)
        raise
    new_grants = grants.finish(deps.quota, change, row.id) if change else row.quota_grants
    new_grants = grants.without_surge(new_grants) + grants.finish(deps.quota, surge, row.id)
    template = dig(body, pod_template_path(row.kind)) or {}
    logger.info("changed the pod template of %s %s/%s", row.kind, row.namespace, row.name)
    return save(
        deps,
        row,
        actor,
        event,
        data,
        template=template,
        pod_cost=cost.to_dict(),
        quota_grants=new_grants,
    )


def delete(deps: Deps, project_id: str, namespace: str, name: str, actor: str) -> dict[str, Any]:
    row = load_row(deps, project_id, namespace, name)
    for hpa in hpas_of(deps, row):
        deps.cluster.delete("HorizontalPodAutoscaler", namespace, hpa, propagation="Background")
    try:
        deps.cluster.delete(row.kind, namespace, name, propagation="Foreground")
    except ObjectNotFound:
        logger.warning("%s %s/%s was already gone from the cluster", row.kind, namespace, name)
    grants.release_all(deps.quota, row.quota_grants, actor)
    with deps.db.transaction() as session:
        try:
            current = records.find(session, project_id, namespace, name)
        except WorkloadNotFound:
            current = None  # the reconcile pass saw it gone first and announced it
        if current is not None:
            data = {"replicas": current.replicas}
            records.emit(session, "workload.deleted", current, actor, data)
            session.delete(current)
    logger.info("deleted %s %s/%s", row.kind, namespace, name)
    return {"deleted": True, **records.resource_of(row)}


def run_now(deps: Deps, project_id: str, namespace: str, name: str, actor: str) -> dict[str, Any]:
    """Create a Job from a CronJob's template now, owned by the CronJob."""
    row = load_row(deps, project_id, namespace, name)
    if row.kind != "CronJob":
        raise InvalidOperation("only a CronJob can be run now", {"kind": row.kind})
    cronjob = deps.cluster.get("CronJob", namespace, name)
    template = copy.deepcopy(cronjob["spec"]["jobTemplate"])
    job_name = f"{name[:40]}-manual-{int(datetime.now(UTC).timestamp())}"
    metadata = template.get("metadata") or {}
    metadata.update(
        {
            "name": job_name,
            "annotations": {"cronjob.kubernetes.io/instantiate": "manual"},
            "ownerReferences": [
                {
                    "apiVersion": "batch/v1",
                    "kind": "CronJob",
                    "name": name,
                    "uid": cronjob["metadata"]["uid"],
                    "controller": True,
                }
            ],
        }
    )
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": metadata, "spec": template["spec"]}
    created = deps.cluster.create(namespace, job)
    logger.info("ran CronJob %s/%s now as Job %s", namespace, name, job_name)
    save(deps, row, actor, "workload.updated", {"changed": ["run_now"], "job": job_name})
    return {"job": job_name, "uid": created["metadata"].get("uid")}


def hpas_of(deps: Deps, row: Workload) -> list[str]:
    items = deps.cluster.list_objects("HorizontalPodAutoscaler", row.namespace).get("items") or []
    return [
        h["metadata"]["name"]
        for h in items
        if (h["spec"].get("scaleTargetRef") or {}).get("name") == row.name
        and (h["spec"].get("scaleTargetRef") or {}).get("kind") == row.kind
    ]


# -- helpers ---------------------------------------------------------------------------


def _change_pods(
    deps: Deps,
    row: Workload,
    replicas: int,
    actor: str,
    patch: dict[str, Any],
    pods_now: int | None = None,
) -> None:
    held = row.quota_grants if pods_now is None else []
    cost = grants.cost_from(row.pod_cost)
    change = grants.plan(
        deps.quota,
        row.project_id,
        row.id,
        held,
        cost,
        quota_pods(row, replicas),
        actor,
        row.storage,
    )
    try:
        deps.cluster.patch(row.kind, row.namespace, row.name, patch)
    except Exception:
        grants.abort(deps.quota, change)
        raise
    row.quota_grants = grants.finish(deps.quota, change, row.id)


def _stop_patch(row: Workload) -> dict[str, Any]:
    if row.kind in SCALABLE:
        return {"spec": {"replicas": 0}}
    if row.kind in SUSPENDABLE:
        return {"spec": {"suspend": True}}
    # A DaemonSet cannot scale to zero: a node selector no node carries empties it.
    return {"spec": {"template": {"spec": {"nodeSelector": {STOPPED_NODE_LABEL: "true"}}}}}


def _start_patch(row: Workload, replicas: int) -> dict[str, Any]:
    if row.kind in SCALABLE:
        return {"spec": {"replicas": replicas}}
    if row.kind in SUSPENDABLE:
        return {"spec": {"suspend": False}}
    return {"spec": {"template": {"spec": {"nodeSelector": {STOPPED_NODE_LABEL: None}}}}}


def _apply_container_changes(template: dict[str, Any], changes: list[dict]) -> list[str]:
    containers = {c["name"]: c for c in template["spec"].get("containers") or []}
    changed = []
    for change in changes:
        container = containers.get(change["name"])
        if container is None:
            raise InvalidOperation(
                f"no container named {change['name']}",
                {"field": "containers.name", "known": sorted(containers)},
            )
        if change.get("image"):
            container["image"] = change["image"]
            changed.append(f"{change['name']}.image")
        if change.get("env") is not None:
            _merge_env(container, change["env"])
            changed.append(f"{change['name']}.env")
        if change.get("resources") is not None:
            container["resources"] = forms.resources(change["resources"])
            changed.append(f"{change['name']}.resources")
    return changed


def _merge_env(container: dict[str, Any], env: dict[str, str]) -> None:
    current = [e for e in container.get("env") or [] if e.get("name") not in env]
    container["env"] = current + [{"name": k, "value": v} for k, v in sorted(env.items())]


def _apply_labels(body: dict[str, Any], labels: dict[str, str | None]) -> None:
    protected = {"scs.io/managed", "scs.io/project", "scs.io/workload"}
    for target in (body["metadata"], dig(body, pod_template_path(body["kind"]))["metadata"]):
        current = target.setdefault("labels", {})
        for key, value in labels.items():
            if key in protected:
                raise InvalidOperation(f"label {key} is set by the platform", {"field": key})
            if value is None:
                current.pop(key, None)
            else:
                current[key] = value


def _same_template(kind: str, changed: dict[str, Any]) -> Any:
    """A mutation giving the latest object the changed pod template and labels."""
    path = pod_template_path(kind)
    template = copy.deepcopy(dig(changed, path))
    labels = copy.deepcopy(changed["metadata"].get("labels"))

    def mutate(body: dict[str, Any]) -> None:
        node = body
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = copy.deepcopy(template)
        body["metadata"]["labels"] = copy.deepcopy(labels)

    return mutate


def save(
    deps: Deps,
    row: Workload,
    actor: str,
    event: str,
    data: dict[str, Any],
    template: dict[str, Any] | None = None,
    **changes: Any,
) -> dict[str, Any]:
    with deps.db.transaction() as session:
        current = records.find(session, row.project_id, row.namespace, row.name)
        if "quota_grants" not in changes:
            changes["quota_grants"] = row.quota_grants
        for key, value in changes.items():
            setattr(current, key, value)
        if template is not None:
            current.revision += 1
            records.add_revision(session, current, template, event.split(".")[-1], actor)
        records.touch(current)
        records.emit(session, event, current, actor, data)
        return records.view(current)


def _now() -> str:
    return datetime.now(UTC).isoformat()


def forget_namespace(deps: Deps, project_id: str, namespace: str) -> int:
    """The namespace was deleted: release its workloads' quota and drop their records."""
    with deps.db.transaction() as session:
        rows = records.list_rows(session, project_id, namespace)
    for row in rows:
        grants.release_all(deps.quota, row.quota_grants, SYSTEM_ACTOR)
        with deps.db.transaction() as session:
            current = records.find(session, project_id, namespace, row.name)
            data = {"replicas": current.replicas, "reason": "namespace_deleted"}
            records.emit(session, "workload.deleted", current, SYSTEM_ACTOR, data)
            session.delete(current)
        logger.info("forgot %s %s/%s with its namespace", row.kind, namespace, row.name)
    return len(rows)
