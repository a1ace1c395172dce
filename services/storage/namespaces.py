"""Which namespaces the provisioner serves, and which project owns each (cached briefly).

Served: labels match STORAGE_NAMESPACE_SELECTOR (default `scs.io/managed=true`).
"""

from __future__ import annotations

import os
import time
from typing import Any

from services.storage import cluster
from services.storage.exceptions import NamespaceNotInProject

DEFAULT_SELECTOR = "scs.io/managed=true"
PROJECT_LABEL = "scs.io/project"
CACHE_SECONDS = 5.0

_cache: dict[str, tuple[float, dict[str, str] | None]] = {}


def selector_matches(selector: str, labels: dict[str, str]) -> bool:
    for term in (t.strip() for t in selector.split(",") if t.strip()):
        if "!=" in term:
            key, value = term.split("!=", 1)
            if labels.get(key.strip()) == value.strip():
                return False
        elif "=" in term:
            key, value = term.split("=", 1)
            if labels.get(key.strip()) != value.strip():
                return False
        elif term not in labels:
            return False
    return True


def labels_of(namespace: str) -> dict[str, str] | None:
    now = time.monotonic()
    cached = _cache.get(namespace)
    if cached is not None and now - cached[0] < CACHE_SECONDS:
        return cached[1]
    found = cluster.get_namespace(namespace)
    labels = None if found is None else dict(found["metadata"].get("labels") or {})
    _cache[namespace] = (now, labels)
    return labels


def served_project(namespace: str, selector: str) -> tuple[bool, str | None]:
    labels = labels_of(namespace)
    if labels is None or not selector_matches(selector, labels):
        return False, None
    return True, labels.get(PROJECT_LABEL)


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
