"""Which namespaces belong to a project (docs/tenancy.md labels), checked on the cluster."""

from __future__ import annotations

from services.workload.cluster import Cluster
from services.workload.exceptions import NamespaceNotInProject, ObjectNotFound

PROJECT_LABEL = "scs.io/project"
MANAGED_LABEL = "scs.io/managed"
TENANT_LABEL = "scs.io/tenant"
WORKLOAD_LABEL = "scs.io/workload"


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
