"""Fixtures of the cluster unit tests.

Real: a migrated SQLite database per test. Faked: the Kubernetes API (`kube`, a MagicMock
whose answers each test sets to recorded API dictionaries) and the outbox relay.
"""

from collections.abc import Iterator
from typing import Any
from unittest.mock import MagicMock

import pytest
from nameko.testing.services import worker_factory

from services.cluster.service import ClusterService
from shared import db
from shared.context import Context


@pytest.fixture
def cluster_db(sqlite_url: str) -> Iterator[db.Database]:
    db.migrate("cluster", sqlite_url)
    yield db.Database(sqlite_url)
    engine = db._engines.pop(sqlite_url, None)
    if engine is not None:
        engine.dispose()


@pytest.fixture
def kube() -> MagicMock:
    return MagicMock(name="kube")


@pytest.fixture
def service(cluster_db: db.Database, kube: MagicMock) -> Any:
    return worker_factory(
        ClusterService,
        db=cluster_db,
        kube=kube,
        config={"NAMESPACE_SETUP_STEPS": "quota,network"},
        context=Context({"actor": "u1", "request_id": "r1"}),
    )


def namespace(name: str, project: str | None, uid: str = "uid-1") -> dict[str, Any]:
    labels = (
        {}
        if project is None
        else {"scs.io/project": project, "scs.io/managed": "true", "scs.io/tenant": "true"}
    )
    return {
        "metadata": {"name": name, "uid": uid, "labels": labels},
        "status": {"phase": "Active"},
    }


def node(name: str, labels: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "uid": f"uid-{name}",
            "resourceVersion": "7",
            "labels": labels or {"kubernetes.io/arch": "amd64"},
        },
        "spec": spec,
        "status": {
            "capacity": {"cpu": "16", "memory": "64Gi", "pods": "110"},
            "allocatable": {"cpu": "15890m", "memory": "60Gi", "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }
