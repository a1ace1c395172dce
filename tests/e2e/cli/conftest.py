"""The `scs` CLI against the full in-process suite in front of the local cluster.

Real: RabbitMQ (a fresh vhost per module), PostgreSQL (a fresh database per service), the
nameko containers of auth, quota, workload, config, network, storage, gpu, cluster, audit,
billing and gateway in this process, the HTTP server on a free loopback port, the local
Kubernetes control plane (KWOK plays the nodes: pods are scheduled and marked Running, Jobs
complete, no container runs) and the CLI as a subprocess (`python -m cli`). Nothing is faked.

Skipped only when ../shared/inputs (the manifests nobody on the team wrote) or the kubeconfig
file is absent; under CI a missing kubeconfig fails instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shared.config import kubeconfig_path
from tests.interface.cli.conftest import Scs
from tests.interface.gateway.conftest import (  # noqa: F401
    ADMIN,
    Client,
    amqp_vhost,
    running_suite,
    suite_config_of,
)

REPO = Path(__file__).resolve().parents[3]
INPUTS = Path(os.environ.get("SCS_SHARED_INPUTS", REPO.parent / "shared" / "inputs"))
SERVICES = [
    "auth", "quota", "workload", "config", "network", "storage", "gpu", "cluster", "audit",
    "billing", "gateway",
]  # fmt: skip
PASSWORD = "correct-horse-battery"


@pytest.fixture(scope="module", autouse=True)
def prerequisites() -> None:
    if not INPUTS.is_dir():
        pytest.skip(f"no shared input manifests at {INPUTS}")
    path = kubeconfig_path()
    if not path.is_file():
        message = f"no kubeconfig at {path} (run `make cluster-up`, or set KUBECONFIG)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="module")
def suite_config(
    prerequisites: None,
    amqp_vhost: str,  # noqa: F811
    postgres_admin_url: str,  # noqa: F811
) -> Iterator[dict[str, Any]]:
    with suite_config_of(amqp_vhost, postgres_admin_url, SERVICES) as config:
        yield config


@pytest.fixture(scope="module")
def client(suite_config: dict[str, Any]) -> Iterator[Client]:
    with running_suite(SERVICES, suite_config) as client:
        yield client


@pytest.fixture(scope="module")
def tenant(client: Client) -> dict[str, str]:
    """A department, a project and a plain member, made by the cloud admin over HTTP."""
    admin = client.login(*ADMIN)
    suffix = uuid.uuid4().hex[:6]

    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        reply = client.call("POST", path, token=admin, json_body=body)
        assert reply.status == 201, (path, reply.body)
        return reply.body  # type: ignore[no-any-return]

    department = post("/api/v1/departments", {"name": f"cli-{suffix}"})["id"]
    project = post("/api/v1/projects", {"name": f"shop-{suffix}", "department_id": department})
    user = post("/api/v1/users", {"username": f"dev-{suffix}", "password": PASSWORD})
    post(f"/api/v1/projects/{project['id']}/members", {"user_id": user["id"], "role": "user"})
    return {"project": project["name"], "project_id": project["id"], "user": f"dev-{suffix}"}


@pytest.fixture
def admin_cli(client: Client, tmp_path: Path) -> Scs:
    scs = Scs(client.base, tmp_path / "admin-config")
    scs.login(*ADMIN)
    return scs


@pytest.fixture
def user_cli(client: Client, tenant: dict[str, str], tmp_path: Path) -> Scs:
    scs = Scs(client.base, tmp_path / "user-config")
    scs.login(tenant["user"], PASSWORD)
    assert scs("config", "set-project", tenant["project"]).code == 0
    return scs


@pytest.fixture
def namespace(admin_cli: Scs, tenant: dict[str, str]) -> Iterator[str]:
    """A namespace of the project, created and set up through the CLI, deleted after."""
    name = f"e2e-cli-{uuid.uuid4().hex[:8]}"
    project = ("-p", tenant["project"])
    result = admin_cli("create", "namespace", name, *project, "--wait", "--timeout", "60")
    assert result.code == 0, result.err
    yield name
    admin_cli("delete", "namespace", name, *project, "--force")
