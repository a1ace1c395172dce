"""Fixtures of the auth unit tests.

Real: a migrated SQLite database per test (tmp_path), argon2 hashing, the permission table.
Faked: nameko's worker_factory replaces the outbox relay with a mock (events are checked in
the outbox table instead), and the request context is a fixed actor. The login policy is the
default one (tests/unit/auth/test_throttle.py builds services with their own).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from nameko.testing.services import worker_factory
from sqlalchemy import select

from services.auth.models import OutboxEvent
from services.auth.service import AuthService
from services.auth.throttle import Policy
from shared.context import Context
from shared.db import Database, migrate

ACTOR = "actor-0001"


@pytest.fixture
def database(sqlite_url: str) -> Database:
    migrate("auth", sqlite_url)
    return Database(sqlite_url)


@pytest.fixture
def service(database: Database) -> AuthService:
    return worker_factory(
        AuthService, db=database, context=Context({"actor": ACTOR}), login_policy=Policy()
    )


@pytest.fixture
def events(database: Database) -> Callable[[], list[dict[str, Any]]]:
    """The envelopes in the outbox, oldest first."""

    def read() -> list[dict[str, Any]]:
        with database.transaction() as session:
            rows = session.scalars(select(OutboxEvent).order_by(OutboxEvent.seq)).all()
            return [row.payload for row in rows]

    return read


@pytest.fixture
def admin(service: AuthService) -> dict[str, Any]:
    return service.create_user(ACTOR, "root", "correct horse battery", is_cloud_admin=True)
