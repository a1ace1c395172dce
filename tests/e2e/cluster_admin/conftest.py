"""The cluster and config services behind the gateway, against the local control plane.

Real: RabbitMQ (a fresh vhost per module), PostgreSQL (a fresh database per service), the
auth, quota, cluster, config, network, workload, audit and gateway nameko containers in this
process, the HTTP server on a free loopback port, and the local cluster (upstream etcd, apiserver,
controller-manager and scheduler; KWOK plays the nodes of deploy/cluster/nodes.yaml, so pods
are scheduled and marked Running but no container runs). Nothing is mocked.

Also captured, to search for Secret values: every log record of the process at INFO (the
shipped level) and every event published on `scs.events` (a queue bound to `#` before the
services start). Each test creates its own namespaces (unique names) and deletes them.

Skipped (failed under CI) only when the kubeconfig file is absent.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from kombu import Connection, Exchange, Queue
from kubernetes import client as k8s

from tests.e2e.cluster.support import wait_until
from tests.e2e.kube import cluster_client
from tests.interface.gateway import conftest as gateway_suite
from tests.interface.gateway.conftest import Client, running_suite, suite_config_of

# The gateway suite's fixtures, reused as they are (this module's `client` replaces theirs).
amqp_vhost = gateway_suite.amqp_vhost
admin_token = gateway_suite.admin_token
world = gateway_suite.world

SERVICES = ["auth", "quota", "cluster", "config", "network", "workload", "audit", "gateway"]
# Every setup service runs here, so a namespace is ready only once all three answered.
SETUP_STEPS = "quota,network,workload"


@pytest.fixture(scope="module")
def kube_api() -> Iterator[k8s.ApiClient]:
    api = cluster_client()
    yield api
    api.close()


@pytest.fixture(scope="module")
def core(kube_api: k8s.ApiClient) -> k8s.CoreV1Api:
    return k8s.CoreV1Api(kube_api)


@pytest.fixture(scope="module")
def suite_config(
    kube_api: k8s.ApiClient, amqp_vhost: str, postgres_admin_url: str
) -> Iterator[dict[str, Any]]:
    with suite_config_of(
        amqp_vhost, postgres_admin_url, SERVICES, NAMESPACE_SETUP_STEPS=SETUP_STEPS
    ) as config:
        yield config


@pytest.fixture(scope="module")
def bus(suite_config: dict[str, Any]) -> Iterator[Queue]:
    """A queue bound to every event type, declared before the services start."""
    exchange = Exchange("scs.events", type="topic", durable=True)
    queue = Queue(f"test-all-{uuid.uuid4().hex[:8]}", exchange, routing_key="#")
    with Connection(suite_config["AMQP_URI"]) as connection:
        queue(connection.channel()).declare()
        yield queue


def drain(suite_config: dict[str, Any], queue: Queue) -> list[dict[str, Any]]:
    """Every event waiting in `queue` (acknowledged)."""
    found = []
    with Connection(suite_config["AMQP_URI"]) as connection:
        bound = queue(connection.channel())
        while (message := bound.get(no_ack=True)) is not None:
            found.append(message.payload)
    return found


class Captured(logging.Handler):
    """Every formatted log line of the process, with its traceback if any."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture(scope="module")
def logs() -> Iterator[Captured]:
    root = logging.getLogger()
    handler, level = Captured(), root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield handler
    root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture(scope="module")
def client(suite_config: dict[str, Any], bus: Queue, logs: Captured) -> Iterator[Client]:
    with running_suite(SERVICES, suite_config) as client:
        yield client


def wait_for_service_account(core: k8s.CoreV1Api, name: str) -> None:
    wait_until(
        f"the default ServiceAccount in {name}",
        lambda: (
            core.list_namespaced_service_account(
                name, field_selector="metadata.name=default"
            ).items
        ),
    )


class Namespaces:
    """Namespaces made through the API in one test, force-deleted afterwards."""

    def __init__(self, client: Client, core: k8s.CoreV1Api, world: dict[str, Any]) -> None:
        self.client, self.core, self.world = client, core, world
        self.made: list[str] = []

    def create(self, project: str = "own", token_role: str = "project_admin") -> str:
        name = f"e2e-ca-{uuid.uuid4().hex[:8]}"
        token = self.world["tokens"][token_role]
        project_id = self.world["projects"][project]
        reply = self.client.call(
            "POST", f"/api/v1/projects/{project_id}/namespaces", token, {"name": name}
        )
        assert reply.status == 201, reply.body
        self.made.append(name)
        wait_for_service_account(self.core, name)
        return name

    def delete_all(self) -> None:
        for name in self.made:
            try:
                self.core.delete_namespace(
                    name, propagation_policy="Background", grace_period_seconds=0
                )
            except k8s.exceptions.ApiException as exc:
                if exc.status != 404:
                    raise


@pytest.fixture
def namespaces(client: Client, core: k8s.CoreV1Api, world: dict[str, Any]) -> Iterator[Namespaces]:
    made = Namespaces(client, core, world)
    yield made
    made.delete_all()
