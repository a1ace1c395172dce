"""A whole suite (auth, quota, gateway) running in this process, shared by a test module.

Real: RabbitMQ (a fresh vhost per module, made through the management API), PostgreSQL (a
fresh database per service per module), the nameko containers and the HTTP server on a free
loopback port. Nothing is mocked.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from nameko.testing.utils import find_free_port

from runner.embedded import embedded_suite
from tests.conftest import DatabaseFactory, require_server
from tests.interface.pipeline.support import drop_databases

MANAGEMENT = "http://127.0.0.1:15672/api"
ADMIN = ("admin", "admin-password-1")


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str]

    @property
    def code(self) -> str | None:
        return self.body.get("code") if isinstance(self.body, dict) else None


@dataclass
class Client:
    base: str
    session: requests.Session = field(default_factory=requests.Session)

    def call(
        self,
        method: str,
        path: str,
        token: str | None = None,
        json_body: Any = None,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
    ) -> Reply:
        all_headers = dict(headers or {})
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        if json_body is not None:
            data = json.dumps(json_body).encode()
        if data is not None:
            all_headers.setdefault("Content-Type", "application/json")
        response = self.session.request(
            method, self.base + path, data=data, headers=all_headers, params=params, timeout=30
        )
        try:
            body = response.json()
        except ValueError:
            body = response.text
        return Reply(response.status_code, body, dict(response.headers))

    def login(self, username: str, password: str) -> str:
        reply = self.call(
            "POST",
            "/api/v1/auth/login",
            json_body={
                "username": username,
                "password": password,
            },
        )
        assert reply.status == 201, reply.body
        return str(reply.body["token"])


@pytest.fixture(scope="module")
def amqp_vhost() -> Iterator[str]:
    require_server("RabbitMQ", "127.0.0.1", 5672)
    require_server("RabbitMQ management", "127.0.0.1", 15672)
    vhost = f"scs-t-{uuid.uuid4().hex[:10]}"
    auth = ("guest", "guest")
    requests.put(f"{MANAGEMENT}/vhosts/{vhost}", auth=auth, timeout=10).raise_for_status()
    requests.put(
        f"{MANAGEMENT}/permissions/{vhost}/guest",
        json={"configure": ".*", "write": ".*", "read": ".*"},
        auth=auth,
        timeout=10,
    ).raise_for_status()
    yield vhost
    requests.delete(f"{MANAGEMENT}/vhosts/{vhost}", auth=auth, timeout=10)


@contextmanager
def suite_config_of(
    amqp_vhost: str, postgres_admin_url: str, services: Iterable[str], **extra: Any
) -> Iterator[dict[str, Any]]:
    """The nameko config of an in-process suite: the vhost, a free gateway port and a fresh
    PostgreSQL database for each of `services` that has one (all but the gateway), dropped
    at the end; `extra` adds or overrides keys."""
    databases = DatabaseFactory(postgres_admin_url)
    config: dict[str, Any] = {
        "AMQP_URI": f"pyamqp://guest:guest@127.0.0.1:5672/{amqp_vhost}",
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{find_free_port()}",
        "max_workers": 20,
    }
    try:
        for service in services:
            if service != "gateway":
                config[f"{service.upper()}_DATABASE_URL"] = databases.create()
        config |= extra
        yield config
    finally:
        drop_databases(databases)


@contextmanager
def running_suite(services: list[str], config: dict[str, Any]) -> Iterator[Client]:
    """`services` running in this process, the first cloud admin (ADMIN) bootstrapped, and a
    client of their gateway."""
    from services.auth.bootstrap import bootstrap_admin

    with embedded_suite(services, config):
        bootstrap_admin(config["AUTH_DATABASE_URL"], *ADMIN)
        yield Client(f"http://{config['WEB_SERVER_ADDRESS']}")


SERVICES = ["auth", "quota", "gateway"]


@pytest.fixture(scope="module")
def suite_config(amqp_vhost: str, postgres_admin_url: str) -> Iterator[dict[str, Any]]:
    with suite_config_of(amqp_vhost, postgres_admin_url, SERVICES) as config:
        yield config


@pytest.fixture(scope="module")
def client(suite_config: dict[str, Any]) -> Iterator[Client]:
    with running_suite(SERVICES, suite_config) as client:
        yield client


@pytest.fixture(scope="module")
def admin_token(client: Client) -> str:
    return client.login(*ADMIN)


def _create(client: Client, token: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    reply = client.call("POST", path, token=token, json_body=body)
    assert reply.status == 201, (path, reply.body)
    return reply.body  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def world(client: Client, admin_token: str) -> dict[str, Any]:
    """Two departments with a project each; one user per role in the first ("own")."""
    password = "correct-horse-battery"
    users = {}
    for name in ("dept-admin", "proj-admin", "plain-user", "other-admin", "other-user"):
        users[name] = _create(
            client,
            admin_token,
            "/api/v1/users",
            {
                "username": name,
                "password": password,
            },
        )["id"]
    own_dept = _create(client, admin_token, "/api/v1/departments", {"name": "research"})["id"]
    other_dept = _create(client, admin_token, "/api/v1/departments", {"name": "finance"})["id"]
    own = _create(
        client,
        admin_token,
        "/api/v1/projects",
        {
            "name": "vision",
            "department_id": own_dept,
        },
    )["id"]
    other = _create(
        client,
        admin_token,
        "/api/v1/projects",
        {
            "name": "ledger",
            "department_id": other_dept,
        },
    )["id"]
    _create(
        client,
        admin_token,
        f"/api/v1/departments/{own_dept}/admins",
        {
            "user_id": users["dept-admin"],
        },
    )
    for project, user, role in (
        (own, users["proj-admin"], "project_admin"),
        (own, users["plain-user"], "user"),
        (other, users["other-admin"], "project_admin"),
        (other, users["other-user"], "user"),
    ):
        _create(
            client,
            admin_token,
            f"/api/v1/projects/{project}/members",
            {
                "user_id": user,
                "role": role,
            },
        )
    return {
        "users": users,
        "departments": {"own": own_dept, "other": other_dept},
        "projects": {"own": own, "other": other},
        "tokens": {
            "cloud_admin": admin_token,
            "department_admin": client.login("dept-admin", password),
            "project_admin": client.login("proj-admin", password),
            "user": client.login("plain-user", password),
            "other_user": client.login("other-user", password),
        },
    }
