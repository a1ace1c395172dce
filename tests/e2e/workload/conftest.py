"""The workload service end to end: the in-process suite in front of the local cluster.

Real: RabbitMQ (a fresh vhost per module), PostgreSQL (a fresh database per service per
module), the nameko containers of auth, quota, workload and gateway, the HTTP server on a free
loopback port, and the local Kubernetes control plane (etcd, kube-apiserver, controllers,
scheduler, KWOK nodes, metrics-server). The gpu service runs too: it places GPU workloads;
and audit: it keeps terminal transcripts. Nothing is mocked. Namespaces are created here with the
kubernetes client carrying the tenancy labels (docs/tenancy.md), one per test, and deleted.

The tests skip only when the kubeconfig file is absent (outside CI); under CI they fail then.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kombu import Connection, Consumer, Queue
from kubernetes import client as k8s
from nameko.testing.utils import find_free_port

from runner.embedded import embedded_suite
from shared.outbox import event_exchange
from tests.conftest import DatabaseFactory
from tests.e2e.cluster.support import load_input, wait_until  # noqa: F401 - re-exported
from tests.e2e.kube import cluster_client
from tests.interface.gateway.conftest import ADMIN, Client, amqp_vhost  # noqa: F401

REPO = Path(__file__).resolve().parents[3]
INPUTS = Path(os.environ.get("SCS_SHARED_INPUTS", REPO.parent / "shared" / "inputs"))
SUITE = ["auth", "quota", "gpu", "audit", "workload", "gateway"]


@pytest.fixture(scope="session")
def api_client() -> Iterator[k8s.ApiClient]:
    api = cluster_client()
    yield api
    api.close()


@pytest.fixture(scope="session")
def core(api_client: k8s.ApiClient) -> k8s.CoreV1Api:
    return k8s.CoreV1Api(api_client)


@pytest.fixture(scope="session")
def apps(api_client: k8s.ApiClient) -> k8s.AppsV1Api:
    return k8s.AppsV1Api(api_client)


@pytest.fixture(scope="module")
def suite_config(amqp_vhost: str, postgres_admin_url: str) -> Iterator[dict[str, Any]]:  # noqa: F811
    databases = DatabaseFactory(postgres_admin_url)
    config = {
        "AMQP_URI": f"pyamqp://guest:guest@127.0.0.1:5672/{amqp_vhost}",
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{find_free_port()}",
        "AUTH_DATABASE_URL": databases.create(),
        "QUOTA_DATABASE_URL": databases.create(),
        "WORKLOAD_DATABASE_URL": databases.create(),
        "GPU_DATABASE_URL": databases.create(),
        "AUDIT_DATABASE_URL": databases.create(),
        "max_workers": 20,
    }
    try:
        yield config
    finally:
        databases.drop_all()


@pytest.fixture(scope="module")
def client(api_client: k8s.ApiClient, suite_config: dict[str, Any]) -> Iterator[Client]:
    from services.auth.bootstrap import bootstrap_admin

    with embedded_suite(SUITE, suite_config):
        bootstrap_admin(suite_config["AUTH_DATABASE_URL"], *ADMIN)
        yield Client(f"http://{suite_config['WEB_SERVER_ADDRESS']}")


@pytest.fixture(scope="module")
def tenant(client: Client) -> dict[str, Any]:
    """A department and a project; the cloud admin's token and a plain member's token."""
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
    token = client.login(f"dev-{suffix}", "correct-horse-1")
    return {"project": project["id"], "admin": admin, "token": token, "user": user["id"]}


@pytest.fixture
def namespace(core: k8s.CoreV1Api, tenant: dict[str, Any]) -> Iterator[str]:
    """A tenant namespace of the test project (labels of docs/tenancy.md), deleted after."""
    name = f"e2e-wl-{uuid.uuid4().hex[:8]}"
    labels = {
        "scs.io/project": tenant["project"],
        "scs.io/managed": "true",
        "scs.io/tenant": "true",
    }
    core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=name, labels=labels)))
    wait_until(
        "the default ServiceAccount",
        lambda: (
            core.list_namespaced_service_account(
                name, field_selector="metadata.name=default"
            ).items
        ),
    )
    yield name
    core.delete_namespace(name, propagation_policy="Background")


@pytest.fixture(scope="module")
def policy_installed(client: Client, api_client: k8s.ApiClient) -> None:
    """The workload service installs its admission policy at start; wait until it is there."""
    admission = k8s.AdmissionregistrationV1Api(api_client)
    wait_until(
        "the isolation admission policy binding",
        lambda: (
            admission.list_validating_admission_policy_binding(
                field_selector="metadata.name=scs-tenant-isolation"
            ).items
        ),
        timeout=60,
    )
    # The apiserver loads new policies asynchronously; give its informer a moment.
    time.sleep(2)


class EventTap:
    """A queue bound to `scs.events` in the suite's vhost, collecting envelopes."""

    def __init__(self, amqp_uri: str, pattern: str) -> None:
        self.connection = Connection(amqp_uri)
        self.received: list[dict[str, Any]] = []
        channel = self.connection.channel()
        queue = Queue(
            f"e2e-workload-{uuid.uuid4().hex}",
            exchange=event_exchange(),
            routing_key=pattern,
            exclusive=True,
            auto_delete=True,
        )
        queue(channel).declare()
        self.consumer = Consumer(channel, queues=[queue], callbacks=[self._on], accept=["json"])
        self.consumer.consume()

    def _on(self, body: dict[str, Any], message: Any) -> None:
        self.received.append(body)
        message.ack()

    def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 30
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for envelope in self.received:
                if predicate(envelope):
                    return envelope
            try:
                self.connection.drain_events(timeout=0.5)
            except TimeoutError:
                continue
        pytest.fail(
            f"no matching event after {timeout}s; got {[e['type'] for e in self.received]}"
        )

    def close(self) -> None:
        self.consumer.cancel()
        self.connection.release()


@pytest.fixture
def events(suite_config: dict[str, Any]) -> Iterator[EventTap]:
    tap = EventTap(suite_config["AMQP_URI"], "#")
    yield tap
    tap.close()
