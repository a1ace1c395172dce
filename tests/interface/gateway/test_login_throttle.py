"""Login throttling through the gateway, and its trail in the audit service.

Real: RabbitMQ (a fresh vhost), PostgreSQL (fresh auth and audit databases), the auth, audit
and gateway containers and the HTTP server. Nothing is mocked; the lock is made short through
the nameko config (3 failures, 2 s) so the test can wait it out.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import eventlet
import pytest

from tests.interface.gateway.conftest import Client, Reply, running_suite, suite_config_of
from tests.interface.pipeline.support import wait_until

pytestmark = pytest.mark.interface

LOGIN = "/api/v1/auth/login"
PASSWORD = "correct-horse-battery"
MAX_FAILURES = 3
LOCK_SECONDS = 2


@pytest.fixture(scope="module")
def suite_config(amqp_vhost: str, postgres_admin_url: str) -> Iterator[dict[str, Any]]:
    with suite_config_of(
        amqp_vhost,
        postgres_admin_url,
        ["auth", "audit", "gateway"],
        LOGIN_MAX_FAILURES=MAX_FAILURES,
        LOGIN_LOCK_SECONDS=LOCK_SECONDS,
        LOGIN_MAX_LOCK_SECONDS=2 * LOCK_SECONDS,
    ) as config:
        yield config


@pytest.fixture(scope="module")
def client(suite_config: dict[str, Any]) -> Iterator[Client]:
    with running_suite(["auth", "audit", "gateway"], suite_config) as client:
        yield client


@pytest.fixture
def user(client: Client, admin_token: str) -> dict[str, Any]:
    name = f"locksmith-{uuid.uuid4().hex[:6]}"
    reply = client.call(
        "POST",
        "/api/v1/users",
        token=admin_token,
        json_body={"username": name, "password": PASSWORD},
    )
    assert reply.status == 201, reply.body
    return reply.body  # type: ignore[no-any-return]


def _login(client: Client, username: str, password: str) -> Reply:
    return client.call("POST", LOGIN, json_body={"username": username, "password": password})


def _fail(client: Client, username: str) -> None:
    for _ in range(MAX_FAILURES):
        reply = _login(client, username, "not-the-password")
        assert reply.status == 401 and reply.code == "invalid_credentials", reply.body


def _locked(reply: Reply) -> int:
    assert reply.status == 429, reply.body
    assert reply.code == "too_many_attempts"
    assert reply.body["details"]["field"] == "username"
    retry_after = int(reply.headers["Retry-After"])
    assert 1 <= retry_after <= LOCK_SECONDS
    assert reply.body["details"]["retry_after_seconds"] == retry_after
    return retry_after


def test_a_locked_name_refuses_even_the_right_password_until_the_lock_ends(
    client: Client, user: dict[str, Any]
) -> None:
    _fail(client, user["username"])

    retry_after = _locked(_login(client, user["username"], PASSWORD))
    time.sleep(retry_after)

    reply = _login(client, user["username"], PASSWORD)
    assert reply.status == 201, reply.body


def test_parallel_guesses_get_no_more_than_the_limit(client: Client, user: dict[str, Any]) -> None:
    # Each attempt is counted before its password is checked, under the row's lock.
    guesses = [f"guess-{n}" for n in range(4 * MAX_FAILURES)]
    pool = eventlet.GreenPool(len(guesses))
    replies = list(pool.imap(lambda guess: _login(client, user["username"], guess), guesses))

    statuses = sorted(reply.status for reply in replies)
    assert statuses == [401] * MAX_FAILURES + [429] * (len(guesses) - MAX_FAILURES)


def test_an_unknown_name_is_locked_alike(client: Client) -> None:
    _fail(client, "nobody-at-all")

    reply = _login(client, "nobody-at-all", "whatever-1")
    _locked(reply)
    assert reply.body["message"].startswith("too many failed logins")


def test_failures_and_the_lock_reach_the_audit_as_denied(
    client: Client, admin_token: str, user: dict[str, Any]
) -> None:
    _fail(client, user["username"])
    _locked(_login(client, user["username"], PASSWORD))

    params = {"type": "auth.*", "outcome": "denied", "actor": user["id"], "limit": 50}

    def recorded() -> list[dict[str, Any]] | None:
        reply = client.call("GET", "/api/v1/audit", token=admin_token, params=params)
        items: list[dict[str, Any]] = reply.body["items"]
        return items if len(items) >= MAX_FAILURES + 1 else None

    items = wait_until(recorded, 15, "the failed logins in the audit")
    types = sorted(item["type"] for item in items)
    assert types == ["auth.login_failed"] * MAX_FAILURES + ["auth.login_locked"], items
    locked = next(item for item in items if item["type"] == "auth.login_locked")
    assert locked["source"] == "127.0.0.1"
    assert locked["data"]["username"] == user["username"]
    assert locked["data"]["lock_seconds"] == LOCK_SECONDS
