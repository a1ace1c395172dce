"""Which namespaces belong to a project (docs/tenancy.md labels), checked on the cluster."""

from __future__ import annotations

from typing import Any

from services.workload import admission
from services.workload.cluster import Cluster
from services.workload.exceptions import NamespaceNotInProject, ObjectNotFound, WorkloadExists
from services.workload.models import OutboxEvent
from services.workload.quota_usage import DEFAULT_REQUESTS
from shared.db import Database
from shared.events import SYSTEM_ACTOR, new_event, record_event

PROJECT_LABEL = "scs.io/project"
MANAGED_LABEL = "scs.io/managed"
TENANT_LABEL = "scs.io/tenant"
WORKLOAD_LABEL = "scs.io/workload"
DEFAULTS_LIMIT_RANGE = "scs-default-requests"


def require_project_namespace(cluster: Cluster, project_id: str, namespace: str) -> None:
    """Raise NamespaceNotInProject unless `namespace` is a tenant namespace of the project."""
    try:
        labels = cluster.get("Namespace", None, namespace)["metadata"].get("labels") or {}
    except ObjectNotFound as exc:
        raise NamespaceNotInProject(
            f"namespace {namespace} does not exist", {"field": "namespace", "namespace": namespace}
        ) from exc
    if labels.get(PROJECT_LABEL) != project_id or labels.get(TENANT_LABEL) != "true":
        raise NamespaceNotInProject(
            f"namespace {namespace} is not a tenant namespace of project {project_id}",
            {"field": "namespace", "namespace": namespace},
        )


def set_up_namespace(cluster: Cluster, database: Database, project_id: str, name: str) -> bool:
    """Setup step "workload" of a new namespace: the tenant label the admission policy binds
    to, and the policy itself; then `namespace.setup_done`. Idempotent; False when the
    namespace is gone or not the project's."""
    try:
        labels = cluster.get("Namespace", None, name)["metadata"].get("labels") or {}
    except ObjectNotFound:
        return False
    if labels.get(PROJECT_LABEL) != project_id:
        return False
    if labels.get(TENANT_LABEL) != "true":
        cluster.patch("Namespace", None, name, {"metadata": {"labels": {TENANT_LABEL: "true"}}})
    cluster.ensure(admission.policy())
    cluster.ensure(admission.binding())
    ensure_default_requests(cluster, name)
    with database.transaction() as session:
        record_event(session, OutboxEvent, setup_done_event(project_id, name))
    return True


def ensure_default_requests(cluster: Cluster, namespace: str) -> None:
    """A LimitRange giving containers without requests the platform's defaults.

    The second line of defence behind the API's own filling (quota_usage.fill_default_requests):
    a pod created directly in the namespace is admitted by a ResourceQuota on requests too.
    """
    body = {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": {"name": DEFAULTS_LIMIT_RANGE, "labels": {MANAGED_LABEL: "true"}},
        "spec": {"limits": [{"type": "Container", "defaultRequest": dict(DEFAULT_REQUESTS)}]},
    }
    try:
        cluster.create(namespace, body)
    except WorkloadExists:
        return


def setup_done_event(project_id: str, namespace: str) -> dict[str, Any]:
    return new_event(
        "namespace.setup_done",
        actor=SYSTEM_ACTOR,
        project=project_id,
        resource={"kind": "Namespace", "name": namespace},
        data={"namespace": namespace, "step": "workload"},
    )
