"""The workload service behind the gateway, without needing the cluster.

Real: RabbitMQ (a fresh vhost per module), PostgreSQL (a fresh database per service), the
nameko containers of auth, quota, workload and gateway, the HTTP server on a loopback port.
Nothing is mocked. These tests cover what the service refuses before it reaches the cluster
(input, isolation, API versions); everything that needs the cluster is in tests/e2e/workload.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from nameko.testing.utils import find_free_port

from runner.embedded import embedded_suite
from tests.conftest import DatabaseFactory
from tests.interface.gateway.conftest import ADMIN, Client, amqp_vhost  # noqa: F401

pytestmark = pytest.mark.interface


@pytest.fixture(scope="module")
def suite_config(amqp_vhost: str, postgres_admin_url: str) -> Iterator[dict[str, Any]]:  # noqa: F811
    databases = DatabaseFactory(postgres_admin_url)
    config = {
        "AMQP_URI": f"pyamqp://guest:guest@127.0.0.1:5672/{amqp_vhost}",
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{find_free_port()}",
        "AUTH_DATABASE_URL": databases.create(),
        "QUOTA_DATABASE_URL": databases.create(),
        "WORKLOAD_DATABASE_URL": databases.create(),
        "max_workers": 20,
    }
    try:
        yield config
    finally:
        databases.drop_all()


@pytest.fixture(scope="module")
def client(suite_config: dict[str, Any]) -> Iterator[Client]:
    from services.auth.bootstrap import bootstrap_admin

    with embedded_suite(["auth", "quota", "workload", "gateway"], suite_config):
        bootstrap_admin(suite_config["AUTH_DATABASE_URL"], *ADMIN)
        yield Client(f"http://{suite_config['WEB_SERVER_ADDRESS']}")


@pytest.fixture(scope="module")
def tenant(client: Client) -> dict[str, Any]:
    admin = client.login(*ADMIN)
    suffix = uuid.uuid4().hex[:6]

    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        reply = client.call("POST", path, token=admin, json_body=body)
        assert reply.status == 201, (path, reply.body)
        return reply.body  # type: ignore[no-any-return]

    department = post("/api/v1/departments", {"name": f"research-{suffix}"})["id"]
    project = post("/api/v1/projects", {"name": f"vision-{suffix}", "department_id": department})
    user = post("/api/v1/users", {"username": f"dev-{suffix}", "password": "correct-horse-1"})
    post(f"/api/v1/projects/{project['id']}/members", {"user_id": user["id"], "role": "user"})
    return {"project": project["id"], "token": client.login(f"dev-{suffix}", "correct-horse-1")}
