"""The suite with the network and storage services, in this process, shared by a test module.

Real: RabbitMQ (a fresh vhost per module), PostgreSQL (a fresh database per service per
module), the nameko containers (auth, quota, network, storage, gateway) and the HTTP server on a
free loopback port. Nothing is mocked. The interface tests here need no cluster: they exercise
what is decided before the cluster is asked (validation, permissions, quota, the pool on
PostgreSQL); the controllers' watches wait for a cluster in the background. The end-to-end
tests (tests/e2e/network, tests/e2e/storage) run the same suite against the local cluster.

Each suite serves only namespaces carrying its own label `scs-test-run=<id>`, with a pool of
16 addresses, so suites of parallel test runs never touch each other's objects.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from nameko.standalone.rpc import ClusterRpcProxy
from nameko.testing.utils import find_free_port

from runner.embedded import embedded_suite
from tests.conftest import DatabaseFactory
from tests.interface.gateway.conftest import (  # noqa: F401 - fixtures reused by name
    ADMIN,
    Client,
    admin_token,
    amqp_vhost,
    world,
)

SUITE = ["auth", "quota", "network", "storage", "gateway"]
POOL = "198.51.100.10-198.51.100.25"  # 16 addresses


@pytest.fixture(scope="module")
def run_label() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture(scope="module")
def suite_config(
    amqp_vhost: str,  # noqa: F811
    postgres_admin_url: str,
    run_label: str,
    tmp_path_factory: Any,  # noqa: F811
) -> Iterator[dict[str, Any]]:
    databases = DatabaseFactory(postgres_admin_url)
    selector = f"scs.io/managed=true,scs-test-run={run_label}"
    config = {
        "AMQP_URI": f"pyamqp://guest:guest@127.0.0.1:5672/{amqp_vhost}",
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{find_free_port()}",
        "AUTH_DATABASE_URL": databases.create(),
        "QUOTA_DATABASE_URL": databases.create(),
        "NETWORK_DATABASE_URL": databases.create(),
        "STORAGE_DATABASE_URL": databases.create(),
        "LB_POOL": POOL,
        "NETWORK_NAMESPACE_SELECTOR": selector,
        "STORAGE_NAMESPACE_SELECTOR": selector,
        "STORAGE_VOLUME_DIR": str(tmp_path_factory.mktemp("volumes")),
        "max_workers": 30,
    }
    try:
        yield config
    finally:
        databases.drop_all()


@pytest.fixture(scope="module")
def client(suite_config: dict[str, Any]) -> Iterator[Client]:
    from services.auth.bootstrap import bootstrap_admin

    with embedded_suite(SUITE, suite_config):
        bootstrap_admin(suite_config["AUTH_DATABASE_URL"], *ADMIN)
        yield Client(f"http://{suite_config['WEB_SERVER_ADDRESS']}")


@pytest.fixture
def rpc(client: Client, suite_config: dict[str, Any]) -> Iterator[Any]:
    with ClusterRpcProxy(suite_config) as proxy:
        yield proxy
