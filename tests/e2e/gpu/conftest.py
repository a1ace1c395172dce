"""The gpu service behind the gateway, against the local Kubernetes control plane.

Real: RabbitMQ (a fresh vhost per module), PostgreSQL (a fresh database per service), the
auth, quota, gpu and gateway nameko containers in this process, the HTTP server on a free
loopback port, and the local cluster (upstream apiserver and scheduler; KWOK plays the nodes
of deploy/cluster/nodes.yaml, so a pod's GPUs are counted by the real scheduler but no device
exists). Nothing is mocked. Each test that creates pods does so in its own namespace, labelled
as a project's namespace (docs/tenancy.md), and deletes it afterwards.

Skipped (failed under CI) only when the kubeconfig file is absent.
"""

from __future__ import annotations

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


SERVICES = ["auth", "quota", "gpu", "gateway"]


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
    with suite_config_of(amqp_vhost, postgres_admin_url, SERVICES) as config:
        yield config


@pytest.fixture(scope="module")
def gpu_events(suite_config: dict[str, Any]) -> Iterator[Queue]:
    """A queue bound to gpu.* on the event exchange before the services start."""
    exchange = Exchange("scs.events", type="topic", durable=True)
    queue = Queue(f"test-gpu-{uuid.uuid4().hex[:8]}", exchange, routing_key="gpu.#")
    with Connection(suite_config["AMQP_URI"]) as connection:
        queue(connection.channel()).declare()
        yield queue


@pytest.fixture(scope="module")
def client(suite_config: dict[str, Any], gpu_events: Queue) -> Iterator[Client]:
    with running_suite(SERVICES, suite_config) as client:
        yield client


@pytest.fixture
def project_namespace(core: k8s.CoreV1Api, world: dict[str, Any]) -> Iterator[str]:
    """A namespace of the "own" project, labelled as the cluster service would label it."""
    name = f"e2e-gpu-{uuid.uuid4().hex[:8]}"
    labels = {
        "scs.io/project": world["projects"]["own"],
        "scs.io/managed": "true",
        "scs.io/tenant": "true",
    }
    meta = k8s.V1ObjectMeta(name=name, labels=labels)
    core.create_namespace(k8s.V1Namespace(metadata=meta))
    wait_until(
        f"the default ServiceAccount in {name}",
        lambda: (
            core.list_namespaced_service_account(
                name, field_selector="metadata.name=default"
            ).items
        ),
    )
    yield name
    core.delete_namespace(name, propagation_policy="Background", grace_period_seconds=0)
