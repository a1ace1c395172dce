"""End-to-end fixtures for the network and storage services: the suite against the cluster.

Real: everything. The suite (auth, quota, network, storage, gateway) runs in this process on a
fresh vhost and fresh PostgreSQL databases (tests/interface/network/conftest.py); it drives the
local cluster (etcd, kube-apiserver, controller-manager with its PV binder and EndpointSlice
controllers, scheduler, KWOK nodes that mark pods Ready). The services serve only namespaces
labelled with this run's label, so the 16-address pool belongs to this module alone.

Each test makes its own project namespaces (unique names, the tenancy labels of
docs/tenancy.md plus the run label) and deletes them. Skipped with the reason when there is no
kubeconfig; under CI (CI=true) that is a failure instead.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kombu import Connection, Exchange, Queue
from kubernetes import client as k8s

from tests.e2e.cluster.support import load_input, wait_until  # noqa: F401 - re-exported
from tests.e2e.kube import cluster_client
from tests.interface.network.conftest import (  # noqa: F401 - fixtures reused by name
    POOL,
    admin_token,
    amqp_vhost,
    client,
    rpc,
    run_label,
    suite_config,
    world,
)


@pytest.fixture(scope="module")
def kube() -> Iterator[k8s.ApiClient]:
    api = cluster_client()
    yield api
    api.close()


@pytest.fixture(scope="module", autouse=True)
def _cluster_first(kube: k8s.ApiClient) -> None:
    """Skip (or fail under CI) before the suite is started when there is no cluster."""


@pytest.fixture(scope="module")
def core(kube: k8s.ApiClient) -> k8s.CoreV1Api:
    return k8s.CoreV1Api(kube)


@pytest.fixture(scope="module")
def apps(kube: k8s.ApiClient) -> k8s.AppsV1Api:
    return k8s.AppsV1Api(kube)


@pytest.fixture(scope="module")
def networking(kube: k8s.ApiClient) -> k8s.NetworkingV1Api:
    return k8s.NetworkingV1Api(kube)


@pytest.fixture
def project_namespace(core: k8s.CoreV1Api, run_label: str) -> Iterator[Callable[[str], str]]:  # noqa: F811
    """make(project_id) -> a new namespace of that project, deleted after the test."""
    made: list[str] = []

    def make(project_id: str) -> str:
        name = f"e2e-net-{uuid.uuid4().hex[:8]}"
        labels = {
            "scs.io/project": project_id,
            "scs.io/managed": "true",
            "scs.io/tenant": "true",
            "scs-test-run": run_label,
        }
        core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=name, labels=labels)))
        made.append(name)
        return name

    yield make
    for name in made:
        core.delete_namespace(name, propagation_policy="Background")


class EventTap:
    """Every event on `scs.events` of the suite's vhost, collected in arrival order."""

    def __init__(self, amqp_uri: str) -> None:
        self.connection = Connection(amqp_uri)
        exchange = Exchange("scs.events", type="topic", durable=True)
        queue = Queue(
            f"e2e-tap-{uuid.uuid4().hex[:8]}",
            exchange,
            routing_key="#",
            exclusive=True,
            auto_delete=True,
        )
        self.events: list[tuple[float, dict[str, Any]]] = []
        self.consumer = self.connection.Consumer([queue], callbacks=[self._on], accept=["json"])
        self.consumer.consume()

    def _on(self, body: dict[str, Any], message: Any) -> None:
        self.events.append((time.monotonic(), body))
        message.ack()

    def drain(self, seconds: float = 0.2) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                self.connection.drain_events(timeout=max(0.01, deadline - time.monotonic()))
            except TimeoutError:
                return

    def matching(self, event_type: str, **resource: str) -> list[dict[str, Any]]:
        return [
            e
            for _, e in self.events
            if e["type"] == event_type
            and all(e["resource"].get(k) == v for k, v in resource.items())
        ]

    def wait_for(self, what: str, check: Callable[[], Any], timeout: float = 30) -> Any:
        def poll() -> Any:
            self.drain()
            return check()

        return wait_until(what, poll, timeout=timeout, interval=0)

    def close(self) -> None:
        self.consumer.cancel()
        self.connection.release()


@pytest.fixture
def events(client: Any, suite_config: dict[str, Any]) -> Iterator[EventTap]:  # noqa: F811
    tap = EventTap(suite_config["AMQP_URI"])
    yield tap
    tap.close()


def kata(pod_spec: dict[str, Any]) -> dict[str, Any]:
    """What the workload service does to every tenant pod: the Kata RuntimeClass."""
    return {**pod_spec, "runtimeClassName": "kata"}
