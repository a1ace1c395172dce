"""Creating workloads from a manifest stream: check everything, reserve, apply, record.

Nothing is half-applied: every document is checked (kind, API version, isolation, namespace,
owners of companion objects, quota) before the first object reaches the cluster, and when the
cluster refuses one object, the objects already applied by this request are removed again and
the reservations released.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Any

from nameko.exceptions import UnknownService

from services.workload import gpus, grants, isolation, lifecycle, preflight, records
from services.workload.deps import Deps
from services.workload.exceptions import (
    InvalidManifest,
    OwnerUnavailable,
    WorkloadError,
    WorkloadExists,
)
from services.workload.manifests import (
    COMPANION,
    HPA,
    WORKLOAD,
    Document,
    dig,
    pod_template_path,
    replicas_of,
)
from services.workload.models import Workload
from services.workload.quota_usage import fill_default_requests, pod_cost
from services.workload.tenancy import (
    MANAGED_LABEL,
    PROJECT_LABEL,
    WORKLOAD_LABEL,
    require_project_namespace,
)

logger = logging.getLogger(__name__)

KATA_NODE_LABEL = "katacontainers.io/kata-runtime"
MAX_LABEL_VALUE = 63


class Planned:
    """One workload of the request on its way into the cluster."""

    def __init__(self, doc: Document, pods: int) -> None:
        self.doc = doc
        self.id = str(uuid.uuid4())
        self.pods = pods
        self.cost = pod_cost(doc.body)
        # Claims (volumeClaimTemplates included) are charged by the storage service, which
        # provisions them; charging them here too would count them twice.
        self.storage: dict[str, int] = {}
        self.hpa_max = 0
        self.change: grants.GrantChange | None = None
        self.created: dict[str, Any] | None = None
        self.request_id: str | None = None


def create(
    deps: Deps,
    project_id: str,
    namespace: str,
    documents: list[Document],
    actor: str,
    request_id: str | None = None,
) -> dict[str, Any]:
    _validate(documents, project_id, namespace)
    replay = _replay(deps, request_id, project_id, namespace, actor)
    if replay is not None:
        return replay
    require_project_namespace(deps.cluster, project_id, namespace)
    planned = _check(deps, namespace, documents)
    for item in planned:
        if item.cost.gpu:
            gpus.place(deps.owners.get("gpu"), project_id, item.doc, actor)
    hpas = [d for d in documents if d.role == HPA]
    companions = [d for d in documents if d.role == COMPANION]
    _require_owners(deps, companions)

    _reserve(deps, project_id, planned, hpas, actor)
    retargeted = _reserve_for_existing(deps, namespace, planned, hpas, actor)
    applied: list[tuple[str, Document, dict[str, Any]]] = []
    try:
        _apply(deps, project_id, namespace, companions, planned, hpas, actor, applied)
    except Exception:
        _undo(deps, project_id, namespace, applied, actor)
        changes = [item.change for item in planned] + [c for _, _, c in retargeted]
        for change in changes:
            if change is not None:
                grants.abort(deps.quota, change)
        raise
    for row, maximum, change in retargeted:
        held = grants.finish(deps.quota, change, row.id)
        data = {"changed": ["autoscaling"], "max_replicas": maximum}
        lifecycle.save(
            deps, row, actor, "workload.updated", data, hpa_max=maximum, quota_grants=held
        )
    for item in planned:
        item.request_id = request_id
    return _record(deps, project_id, namespace, planned, applied, actor)


def _replay(
    deps: Deps, request_id: str | None, project_id: str, namespace: str, actor: str
) -> dict[str, Any] | None:
    """A create redelivered after it succeeded answers what it created the first time.

    Only for the same caller, project and namespace: a request id comes from the client.
    """
    if not request_id or request_id == "-":
        return None
    with deps.db.transaction() as session:
        rows = [
            row
            for row in records.by_request(session, request_id)
            if (row.project_id, row.namespace, row.created_by) == (project_id, namespace, actor)
        ]
        if not rows:
            return None
        logger.info("create request %s was done already; answering it again", request_id)
        return {"workloads": [records.view(row) for row in rows], "objects": [], "replayed": True}


def _reserve_for_existing(
    deps: Deps,
    namespace: str,
    planned: list[Planned],
    hpas: list[Document],
    actor: str,
) -> list[tuple[Workload, int, grants.GrantChange]]:
    """HPAs for workloads created earlier: the ledger must cover their maxReplicas too.

    On a refusal, everything this request reserved is released (the new workloads' too).
    """
    new = {item.doc.name for item in planned}
    changes: list[tuple[Workload, int, grants.GrantChange]] = []
    try:
        for doc in hpas:
            name = (doc.body["spec"].get("scaleTargetRef") or {}).get("name")
            if name in new:
                continue
            with deps.db.transaction() as session:
                row = records.find_in_namespace(session, namespace, str(name))
            maximum = int(doc.body["spec"].get("maxReplicas") or 0)
            pods = 0 if row.stopped else max(row.replicas, maximum)
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
            changes.append((row, maximum, change))
    except Exception:
        for _, _, change in changes:
            grants.abort(deps.quota, change)
        for item in planned:
            if item.change is not None:
                grants.abort(deps.quota, item.change)
        raise
    return changes


def _validate(documents: list[Document], project_id: str, namespace: str) -> None:
    """The checks that need neither the cluster nor the database, first."""
    for doc in documents:
        preflight.check(doc)  # counts within bounds; companions' metadata
        if doc.role == WORKLOAD:
            prepare_workload(doc, project_id, namespace)
        else:
            _place(doc, namespace)
        if doc.role == HPA:
            _label_object(doc.body, project_id)


def prepare_workload(doc: Document, project_id: str, namespace: str) -> None:
    """Namespace, isolation rules, platform labels and the Kata class for one workload."""
    _place(doc, namespace)
    isolation.check(doc.body, doc.index)
    _label(doc, project_id)
    isolation.force_kata(doc.body)
    fill_default_requests(doc.body)
    pod_cost(doc.body)  # malformed quantities name their field here


def _check(deps: Deps, namespace: str, documents: list[Document]) -> list[Planned]:
    names = {d.name for d in documents if d.role == WORKLOAD}
    planned = []
    for doc in documents:
        if doc.role == WORKLOAD:
            planned.append(Planned(doc, _pods(deps, doc)))
        elif doc.role == HPA:
            _check_hpa_target(deps, doc, namespace, names)
    with deps.db.transaction() as session:
        for item in planned:
            if records.exists(session, namespace, item.doc.name):
                raise WorkloadExists(
                    f"a workload named {item.doc.name} exists in {namespace}",
                    {"field": "metadata.name", "document": item.doc.index},
                )
    return planned


def _place(doc: Document, namespace: str) -> None:
    metadata = doc.body["metadata"]
    given = metadata.get("namespace")
    if given not in (None, namespace):
        raise InvalidManifest(
            f"document {doc.index}: metadata.namespace {given} differs from {namespace}",
            {"field": "metadata.namespace", "document": doc.index},
        )
    metadata["namespace"] = namespace


def _label(doc: Document, project_id: str) -> None:
    if len(doc.name) > MAX_LABEL_VALUE:
        raise InvalidManifest(
            f"document {doc.index}: a workload name has at most {MAX_LABEL_VALUE} characters",
            {"field": "metadata.name", "document": doc.index},
        )
    _label_object(doc.body, project_id)
    template = doc.body
    for key in pod_template_path(doc.kind):
        template = template.setdefault(key, {})
    labels = template.setdefault("metadata", {}).setdefault("labels", {})
    labels.update({MANAGED_LABEL: "true", PROJECT_LABEL: project_id, WORKLOAD_LABEL: doc.name})


def _label_object(body: dict[str, Any], project_id: str) -> None:
    labels = body["metadata"].setdefault("labels", {}) or {}
    body["metadata"]["labels"] = labels
    labels.update({MANAGED_LABEL: "true", PROJECT_LABEL: project_id})


def _pods(deps: Deps, doc: Document) -> int:
    if doc.kind != "DaemonSet":
        return replicas_of(doc.body)
    # One pod per Kata-capable node its node selector admits.
    selector = dig(doc.body, ("spec", "template", "spec", "nodeSelector")) or {}
    wanted = {KATA_NODE_LABEL: "true", **selector}
    nodes = deps.cluster.list_objects("Node").get("items") or []
    return sum(
        1
        for node in nodes
        if all((node["metadata"].get("labels") or {}).get(k) == v for k, v in wanted.items())
    )


def _check_hpa_target(deps: Deps, doc: Document, namespace: str, names: set[str]) -> None:
    target = doc.body["spec"].get("scaleTargetRef") or {}
    name = target.get("name")
    if name in names:
        return
    with deps.db.transaction() as session:
        if isinstance(name, str) and records.exists(session, namespace, name):
            return
    raise InvalidManifest(
        f"document {doc.index}: the HPA's target {name} is not a workload of this namespace",
        {"field": "spec.scaleTargetRef.name", "document": doc.index},
    )


def _require_owners(deps: Deps, companions: list[Document]) -> None:
    for doc in companions:
        proxy = deps.owners.get(doc.owner)
        try:
            if proxy is None:
                raise UnknownService(doc.owner)
            proxy.health()
        except UnknownService as exc:
            raise OwnerUnavailable(
                f"document {doc.index}: {doc.kind} {doc.name} belongs to the {doc.owner} "
                f"service, which is not running; nothing was applied",
                {"document": doc.index, "kind": doc.kind, "owner": doc.owner},
            ) from exc


def hpa_max(hpas: list[Document], name: str) -> int:
    for doc in hpas:
        if (doc.body["spec"].get("scaleTargetRef") or {}).get("name") == name:
            return int(doc.body["spec"].get("maxReplicas") or 0)
    return 0


def _reserve(
    deps: Deps, project_id: str, planned: list[Planned], hpas: list[Document], actor: str
) -> None:
    try:
        for item in planned:
            item.hpa_max = hpa_max(hpas, item.doc.name)
            pods = max(item.pods, item.hpa_max)
            item.change = grants.plan(
                deps.quota, project_id, item.id, [], item.cost, pods, actor, item.storage
            )
    except Exception:
        for item in planned:
            if item.change is not None:
                grants.abort(deps.quota, item.change)
        raise


def _apply(
    deps: Deps,
    project_id: str,
    namespace: str,
    companions: list[Document],
    planned: list[Planned],
    hpas: list[Document],
    actor: str,
    applied: list[tuple[str, Document, dict[str, Any]]],
) -> None:
    for doc in companions:
        answer = deps.owners[doc.owner].apply_manifest(project_id, namespace, doc.body, actor)
        applied.append((doc.owner, doc, answer))
    for item in planned:
        item.created = deps.cluster.create(namespace, item.doc.body)
        applied.append(("workload", item.doc, item.created))
    for doc in hpas:
        applied.append(("workload", doc, deps.cluster.create(namespace, doc.body)))


def _undo(
    deps: Deps,
    project_id: str,
    namespace: str,
    applied: list[tuple[str, Document, dict[str, Any]]],
    actor: str,
) -> None:
    for owner, doc, _answer in reversed(applied):
        try:
            if owner == "workload":
                deps.cluster.delete(doc.kind, namespace, doc.name, propagation="Background")
            else:
                deps.owners[owner].delete_object(project_id, namespace, doc.kind, doc.name, actor)
        except (WorkloadError, Exception):  # best effort; reported, the refusal goes on
            logger.exception(
                "could not remove %s %s/%s after a refusal", doc.kind, namespace, doc.name
            )


def _record(
    deps: Deps,
    project_id: str,
    namespace: str,
    planned: list[Planned],
    applied: list[tuple[str, Document, dict[str, Any]]],
    actor: str,
) -> dict[str, Any]:
    for item in planned:
        assert item.change is not None
        item.change.keep = grants.finish(deps.quota, item.change, item.id)
    views = []
    with deps.db.transaction() as session:
        for item in planned:
            row = _row(project_id, namespace, item, actor)
            session.add(row)
            session.flush()
            records.add_revision(session, row, _template(item.doc), "created", actor)
            records.emit(
                session,
                "workload.created",
                row,
                actor,
                {"replicas": item.pods, "pod_cost": item.cost.to_dict()},
            )
            views.append(records.view(row))
            logger.info(
                "created %s %s/%s in project %s (%s pods)",
                item.doc.kind,
                namespace,
                item.doc.name,
                project_id,
                item.pods,
            )
    objects = [
        {
            "owner": owner,
            "kind": doc.kind,
            "namespace": namespace,
            "name": doc.name,
            "uid": (answer or {}).get("uid") or dig(answer or {}, ("metadata", "uid")),
        }
        for owner, doc, answer in applied
    ]
    return {"workloads": views, "objects": objects}


def _row(project_id: str, namespace: str, item: Planned, actor: str) -> Workload:
    assert item.change is not None and item.created is not None
    now = datetime.now(UTC)
    return Workload(
        id=item.id,
        project_id=project_id,
        namespace=namespace,
        kind=item.doc.kind,
        name=item.doc.name,
        uid=item.created["metadata"].get("uid"),
        replicas=item.pods,
        remembered_replicas=None,
        stopped=False,
        revision=1,
        pod_cost=item.cost.to_dict(),
        storage=item.storage,
        quota_grants=item.change.keep,
        hpa_max=item.hpa_max or None,
        hpa_replicas=None,
        created_by=actor,
        request_id=item.request_id,
        created_at=now,
        updated_at=now,
    )


def _template(doc: Document) -> dict[str, Any]:
    return dig(doc.body, pod_template_path(doc.kind)) or {}
