"""shared.labels: equality-based selectors and the short-lived namespace label cache. Faked:
the namespace reader (a dict, counting its reads)."""

from __future__ import annotations

import pytest

from shared import labels as namespace_labels
from shared.labels import NamespaceLabels, selector_matches

LABELS = {"scs.io/managed": "true", "scs.io/project": "p1", "tier": "web"}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("scs.io/managed=true", True),
        ("scs.io/managed==true", True),
        ("scs.io/managed=true, tier=web", True),
        ("scs.io/managed=true,tier=db", False),
        ("tier!=db", True),
        ("tier!=web", False),
        ("scs.io/project", True),
        ("scs-test-run", False),
        ("", True),
    ],
)
def test_selector_terms(selector: str, expected: bool) -> None:
    assert selector_matches(selector, LABELS) is expected


def test_labels_are_read_once_per_period_and_absent_namespaces_cached_too(monkeypatch) -> None:
    reads: list[str] = []
    namespaces = {"vision-dev": {"metadata": {"labels": LABELS}}}

    def read(name: str) -> dict | None:
        reads.append(name)
        return namespaces.get(name)

    clock = iter([100.0, 101.0, 106.0, 106.5, 107.0])
    monkeypatch.setattr(namespace_labels.time, "monotonic", lambda: next(clock))
    cache = NamespaceLabels(read, seconds=5.0)

    assert cache.served_project("vision-dev", "scs.io/managed=true") == (True, "p1")  # t=100
    assert cache.labels_of("vision-dev") == LABELS  # t=101: cached
    assert cache.served_project("vision-dev", "tier=db") == (False, None)  # t=106: read again
    assert cache.labels_of("gone") is None  # t=106.5: read, absent
    assert cache.labels_of("gone") is None  # t=107: cached as absent
    assert reads == ["vision-dev", "vision-dev", "gone"]
