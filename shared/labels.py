"""Namespace labels as the controllers read them: equality-based label selectors, and the
labels of a namespace cached for a few seconds (watches deliver many events per namespace and
its labels change rarely)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

PROJECT_LABEL = "scs.io/project"


def selector_matches(selector: str, labels: dict[str, str]) -> bool:
    """Whether `labels` match an equality-based selector: `k=v`, `k==v`, `k!=v`, `k`, joined
    by commas (every term must hold)."""
    for term in (t.strip() for t in selector.split(",") if t.strip()):
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


class NamespaceLabels:
    """Labels of namespaces by name (None: no such namespace), read through `read_namespace`
    and kept `seconds`; `cache` may be handed in (tests reset it)."""

    def __init__(
        self,
        read_namespace: Callable[[str], dict[str, Any] | None],
        seconds: float = 5.0,
        cache: dict[str, tuple[float, dict[str, str] | None]] | None = None,
    ) -> None:
        self.read_namespace = read_namespace
        self.seconds = seconds
        self.cache = {} if cache is None else cache

    def labels_of(self, namespace: str) -> dict[str, str] | None:
        now = time.monotonic()
        cached = self.cache.get(namespace)
        if cached is not None and now - cached[0] < self.seconds:
            return cached[1]
        found = self.read_namespace(namespace)
        labels = None if found is None else dict(found["metadata"].get("labels") or {})
        self.cache[namespace] = (now, labels)
        return labels

    def served_project(self, namespace: str, selector: str) -> tuple[bool, str | None]:
        """(served, project id) of a namespace under the selector."""
        labels = self.labels_of(namespace)
        if labels is None or not selector_matches(selector, labels):
            return False, None
        return True, labels.get(PROJECT_LABEL)
