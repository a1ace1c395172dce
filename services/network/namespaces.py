"""Which namespaces the controllers serve, and which project owns each.

A namespace is served when its labels match the configured selector (nameko config
NETWORK_NAMESPACE_SELECTOR, default `scs.io/managed=true`), so a controller of one suite never
touches another's namespaces. Answers are cached for a few seconds: watches deliver many events
per namespace and the labels change rarely.
"""

from __future__ import annotations

import os
import time
from typing import Any

from services.network import cluster

DEFAULT_SELECTOR = "scs.io/managed=true"
CACHE_SECONDS = 5.0
PROJECT_LABEL = "scs.io/project"

_cache: dict[str, tuple[float, dict[str, str] | None]] = {}


def selector_matches(selector: str, labels: dict[str, str]) -> bool:
    """Equality-based label selector: `k=v`, `k!=v`, `k` (exists), comma-separated."""
    for term in (t.strip() for t in selector.split(",")):
        if not term:
            continue
        if "!=" in term:
            key, value = term.split("!=", 1)
            if labels.get(key.strip()) == value.strip():
                return False
        elif "=" in term:
            key, value = term.split("=", 1)
            if labels.get(key.strip().rstrip("=")) != value.strip().lstrip("="):
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
    """(served, project id) of a namespace under the selector."""
    labels = labels_of(namespace)
    if labels is None or not selector_matches(selector, labels):
        return False, None
    return True, labels.get(PROJECT_LABEL)


def selector_from(config: dict[str, Any]) -> str:
    return str(
        config.get("NETWORK_NAMESPACE_SELECTOR")
        or os.environ.get("SCS_NETWORK_NAMESPACE_SELECTOR")
        or DEFAULT_SELECTOR
    )
