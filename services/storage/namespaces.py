"""Which namespaces the provisioner serves, and which project owns each (cached briefly).

Served: labels match STORAGE_NAMESPACE_SELECTOR (default `scs.io/managed=true`).
"""

from __future__ import annotations

import os
from typing import Any

from services.storage import cluster
from services.storage.exceptions import NamespaceNotInProject
from shared.labels import (  # noqa: F401 - PROJECT_LABEL and selector_matches re-exported
    PROJECT_LABEL,
    NamespaceLabels,
    selector_matches,
)

DEFAULT_SELECTOR = "scs.io/managed=true"
CACHE_SECONDS = 5.0

_cache: dict[str, tuple[float, dict[str, str] | None]] = {}


def _labels() -> NamespaceLabels:
    # the module's cache (tests reset it) and this service's cluster module, read at call time
    return NamespaceLabels(cluster.get_namespace, CACHE_SECONDS, _cache)


def labels_of(namespace: str) -> dict[str, str] | None:
    return _labels().labels_of(namespace)


def served_project(namespace: str, selector: str) -> tuple[bool, str | None]:
    """(served, project id) of a namespace under the selector."""
    return _labels().served_project(namespace, selector)


def check_in_project(namespace: str, project_id: str) -> None:
    found = cluster.get_namespace(namespace)
    owner = None if found is None else (found["metadata"].get("labels") or {}).get(PROJECT_LABEL)
    if owner != project_id:
        raise NamespaceNotInProject(
            f"namespace {namespace} is not a namespace of project {project_id}",
            {
                "namespace": namespace,
                "project_id": project_id,
                "fields": {"namespace": ["not a namespace of this project"]},
            },
        )


def project_namespaces(project_id: str) -> list[str]:
    found = cluster.list_namespaces(f"{PROJECT_LABEL}={project_id}")
    return sorted(ns["metadata"]["name"] for ns in found)


def selector_from(config: dict[str, Any]) -> str:
    return str(
        config.get("STORAGE_NAMESPACE_SELECTOR")
        or os.environ.get("SCS_STORAGE_NAMESPACE_SELECTOR")
        or DEFAULT_SELECTOR
    )
