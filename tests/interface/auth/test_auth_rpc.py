"""The auth service in a real nameko container, on the real RabbitMQ and PostgreSQL.

Nothing is mocked: calls go through nameko's standalone RPC client, errors cross the wire as
their registered types, and events come out of the outbox onto the `scs.events` exchange.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kombu import Connection, Queue
from nameko.standalone.rpc import ServiceRpcProxy

from services.auth.bootstrap import bootstrap_admin
from services.auth.exceptions import InvalidCredentials, PermissionDenied, TokenRevoked
from services.auth.service import AuthService
from shared.db import migrate
from shared.errors import Unauthenticated, ValidationFailed
from shared.outbox import event_exchange

pytestmark = pytest.mark.interface

ADMIN_PASSWORD = "interface admin passphrase"


@pytest.fixture
def config(postgres_url: str, rabbit_config: dict[str, Any]) -> dict[str, Any]:
    migrate("auth", postgres_url)
    bootstrap_admin(postgres_url, "admin", ADMIN_PASSWORD)
    return {"AUTH_DATABASE_URL": postgres_url, **rabbit_config}


@pytest.fixture
def auth(container_factory: Any, config: dict[str, Any]) -> Iterator[Any]:
    container = container_factory(AuthService, config)
    container.start()
    with ServiceRpcProxy("auth", config, timeout=30) as proxy:
        yield proxy


@pytest.fixture
def event_queue(config: dict[str, Any]) -> Iterator[tuple[Connection, Queue]]:
    """A private queue bound to every routing key of the event exchange."""
    with Connection(config["AMQP_URI"]) as connection:
        channel = connection.channel()
        queue = Queue(
            "auth-interface-test",
            exchange=event_exchange(),
            routing_key="#",
            exclusive=True,
            auto_delete=True,
        )
        queue(channel).declare()
        yield connection, queue


def _next_events(connection: Connection, queue: Queue, count: int) -> list[dict[str, Any]]:
    received: list[dict[str, Any]] = []

    def on_message(body: dict[str, Any], message: Any) -> None:
        received.append(body)
        message.ack()

    with connection.Consumer(queue, callbacks=[on_message], accept=["json"]):
        while len(received) < count:
            try:
                connection.drain_events(timeout=10)
            except TimeoutError:
                break
    return received


def test_errors_cross_rpc_typed(auth: Any) -> None:
    with pytest.raises(InvalidCredentials) as caught:
        auth.login("admin", "wrong password")
    assert isinstance(caught.value, Unauthenticated)
    assert caught.value.code == "invalid_credentials"

    with pytest.raises(InvalidCredentials):
        auth.login("nobody", "wrong password")

    with pytest.raises(ValidationFailed) as invalid:
        auth.create_user("actor", "weak", "short")
    assert "password" in invalid.value.details["fields"]


def test_login_authenticate_revoke(auth: Any) -> None:
    answer = auth.login("admin", ADMIN_PASSWORD)
    principal = auth.authenticate(answer["token"])
    assert principal["username"] == "admin"
    assert principal["is_cloud_admin"] is True
    assert principal["token_id"] == answer["token_id"]

    revoked = auth.revoke_token(principal["user_id"], answer["token_id"])
    assert revoked["token_id"] == answer["token_id"]

    with pytest.raises(TokenRevoked):
        auth.authenticate(answer["token"])


def test_tenancy_and_authorize_on_postgres(auth: Any) -> None:
    admin_id = auth.authenticate(auth.login("admin", ADMIN_PASSWORD)["token"])["user_id"]
    user = auth.create_user(admin_id, "dev", "dev passphrase")
    dept = auth.create_department("engineering")
    project = auth.create_project("payments", dept["id"])
    auth.add_member(project["id"], user["id"], "user")

    assert auth.authorize(user["id"], "workloads", "create", project["id"]) == {
        "allowed": True,
        "role": "user",
    }
    with pytest.raises(PermissionDenied) as denied:
        auth.authorize(user["id"], "namespaces", "create", project["id"])
    assert denied.value.details == {
        "area": "namespaces",
        "action": "create",
        "project_id": project["id"],
    }
    assert auth.list_projects(user["id"])["total"] == 1
    assert "logs" in auth.permissions(user["id"], project["id"])["allowed"]["workloads"]


def test_events_reach_the_exchange(auth: Any, event_queue: tuple[Connection, Queue]) -> None:
    connection, queue = event_queue

    auth.create_department("events-dept")

    events = _next_events(connection, queue, 1)
    assert [e["type"] for e in events] == ["department.created"]
    assert events[0]["resource"]["name"] == "events-dept"
    assert events[0]["schema_version"] == 1


def test_postgres_schema_matches_the_models(config: dict[str, Any]) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine

    from services.auth.models import Base

    engine = create_engine(config["AUTH_DATABASE_URL"])
    try:
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    finally:
        engine.dispose()
