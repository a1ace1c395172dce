"""Fixtures of the config unit tests.

Real: a migrated SQLite database per test (the outbox). Faked: the Kubernetes API (`kube`, a
MagicMock answering recorded dictionaries) and the outbox relay.
"""

from collections.abc import Iterator
from typing import Any
from unittest.mock import MagicMock

import pytest
from nameko.testing.services import worker_factory

from services.config.service import ConfigService
from shared import db
from shared.context import Context


@pytest.fixture
def config_db(sqlite_url: str) -> Iterator[db.Database]:
    db.migrate("config", sqlite_url)
    yield db.Database(sqlite_url)
    engine = db._engines.pop(sqlite_url, None)
    if engine is not None:
        engine.dispose()


def project_namespace(name: str = "vision-dev", project: str = "p1") -> dict[str, Any]:
    labels = {"scs.io/project": project, "scs.io/managed": "true", "scs.io/tenant": "true"}
    return {"metadata": {"name": name, "labels": labels}}


@pytest.fixture
def kube() -> MagicMock:
    fake = MagicMock(name="kube")
    fake.get_namespace.return_value = project_namespace()
    # create/replace answer what they were given, as the apiserver does (plus a uid).
    fake.create.side_effect = lambda body, secrets: (
        body | {"metadata": body["metadata"] | {"uid": "uid-1", "resourceVersion": "1"}}
    )
    fake.replace.side_effect = lambda body, secrets: (
        body | {"metadata": body["metadata"] | {"uid": "uid-1", "resourceVersion": "2"}}
    )
    return fake


@pytest.fixture
def service(config_db: db.Database, kube: MagicMock) -> Any:
    return worker_factory(
        ConfigService, db=config_db, kube=kube, context=Context({"actor": "u1", "request_id": "r"})
    )
