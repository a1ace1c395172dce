"""Which namespaces the controllers serve, and which project owns each.

A namespace is served when its labels match the configured selector (nameko config
NETWORK_NAMESPACE_SELECTOR, default `scs.io/managed=true`), so a controller of one suite never
touches another's namespaces. Answers are cached for a few seconds: watches deliver many events
per namespace and the labels change rarely.
"""

from __future__ import annotations

import os
from typing import Any

from services.network import cluster
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


def selector_from(config: dict[str, Any]) -> str:
    return str(
        config.get("NETWORK_NAMESPACE_SELECTOR")
        or os.environ.get("SCS_NETWORK_NAMESPACE_SELECTOR")
        or DEFAULT_SELECTOR
    )
