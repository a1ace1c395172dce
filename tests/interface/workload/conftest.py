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

from tests.interface.gateway.conftest import (  # noqa: F401
    ADMIN,
    Client,
    amqp_vhost,
    running_suite,
    suite_config_of,
)

pytestmark = pytest.mark.interface


@pytest.fixture(scope="module")
def suite_config(amqp_vhost: str, postgres_admin_url: str) -> Iterator[dict[str, Any]]:  # noqa: F811
    with suite_config_of(
        amqp_vhost, postgres_admin_url, ["auth", "quota", "workload", "gateway"]
    ) as config:
        yield config


@pytest.fixture(scope="module")
def client(suite_config: dict[str, Any]) -> Iterator[Client]:
    with running_suite(["auth", "quota", "workload", "gateway"], suite_config) as client:
        yield client


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
