"""Workload benchmarks against the local cluster (skipped, with a row saying so, without one).

1. create-workload latency: POST a Deployment manifest through the gateway (authentication,
   authorisation, validation, RPC, isolation checks, quota reserve and commit, the create in the
   cluster, the record and its event) until the 201 answer, versus creating the same manifest
   (runtime class already set) directly with the kubernetes client. Each create is deleted
   again before the next, outside the timed part.
2. HPA change to event received: the HPA's status is written through its status subresource
   (as the HPA controller does); the time until `workload.scaled` for that change arrives on the
   bus measures the watcher, the outbox and the relay.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import requests
from kombu import Connection, Consumer, Queue
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from bench.stats import latency_row
from shared.config import kubeconfig_path
from shared.outbox import event_exchange

CREATES = 20
HPA_CHANGES = 10


def _deployment(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": "nginx",
                            "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}},
                        }
                    ]
                },
            },
        },
    }


def _skipped(reason: str) -> list[dict[str, Any]]:
    return [
        {
            "benchmark": "workload (skipped)",
            "metric": reason,
            "value": None,
            "baseline": None,
            "baseline_value": None,
            "ratio": None,
        }
    ]


def run(base: str, admin_token: str, amqp_uri: str) -> list[dict[str, Any]]:
    """Rows for both benchmarks; `base` is a gateway whose suite includes the workload service."""
    if not kubeconfig_path().is_file():
        return _skipped(f"no kubeconfig at {kubeconfig_path()}")
    api = k8s_config.new_client_from_config(config_file=str(kubeconfig_path()))
    core, apps = k8s.CoreV1Api(api), k8s.AppsV1Api(api)
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {admin_token}"
    project = _project(session, base)
    namespace = _namespace(core, project)
    try:
        rows = _create_rows(session, base, project, namespace, apps)
        rows += _hpa_rows(session, base, project, namespace, api, amqp_uri)
    finally:
        core.delete_namespace(namespace, propagation_policy="Background")
        api.close()
    return rows


def _project(session: requests.Session, base: str) -> str:
    suffix = uuid.uuid4().hex[:6]
    department = session.post(
        f"{base}/api/v1/departments", json={"name": f"bench-{suffix}"}, timeout=10
    ).json()["id"]
    return str(
        session.post(
            f"{base}/api/v1/projects",
            json={"name": f"bench-{suffix}", "department_id": department},
            timeout=10,
        ).json()["id"]
    )


def _namespace(core: k8s.CoreV1Api, project: str) -> str:
    name = f"bench-wl-{uuid.uuid4().hex[:8]}"
    labels = {"scs.io/project": project, "scs.io/managed": "true", "scs.io/tenant": "true"}
    core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=name, labels=labels)))
    return name


def _create_rows(
    session: requests.Session, base: str, project: str, namespace: str, apps: k8s.AppsV1Api
) -> list[dict[str, Any]]:
    url = f"{base}/api/v1/projects/{project}/workloads"
    through_gateway, direct = [], []
    for i in range(CREATES):
        name = f"gw-{i}"
        started = time.perf_counter()
        reply = session.post(
            url, json={"namespace": namespace, "manifest": [_deployment(name)]}, timeout=30
        )
        through_gateway.append(time.perf_counter() - started)
        reply.raise_for_status()
        session.delete(f"{url}/{name}", params={"namespace": namespace}, timeout=30)

        body = _deployment(f"direct-{i}")
        body["spec"]["template"]["spec"]["runtimeClassName"] = "kata"
        started = time.perf_counter()
        apps.create_namespaced_deployment(namespace, body)  # type: ignore[arg-type]
        direct.append(time.perf_counter() - started)
        apps.delete_namespaced_deployment(f"direct-{i}", namespace)
    return latency_row(
        "create Deployment through the gateway", through_gateway, direct, "kubernetes client"
    )


def _hpa_rows(
    session: requests.Session,
    base: str,
    project: str,
    namespace: str,
    api: k8s.ApiClient,
    amqp_uri: str,
) -> list[dict[str, Any]]:
    url = f"{base}/api/v1/projects/{project}/workloads"
    session.post(url, json={"namespace": namespace, "manifest": [_deployment("hpa")]}, timeout=30)
    session.put(
        f"{url}/hpa/autoscaling",
        params={"namespace": namespace},
        json={"min_replicas": 1, "max_replicas": 50, "cpu_utilization": 50},
        timeout=30,
    ).raise_for_status()
    autoscaling = k8s.AutoscalingV2Api(api)
    samples = []
    with Connection(amqp_uri) as connection:
        received: list[dict[str, Any]] = []
        queue = Queue(
            f"bench-hpa-{uuid.uuid4().hex}",
            exchange=event_exchange(),
            routing_key="workload.scaled",
            exclusive=True,
            auto_delete=True,
        )
        channel = connection.channel()
        queue(channel).declare()

        def on_message(body: dict[str, Any], message: Any) -> None:
            received.append(body)
            message.ack()

        with Consumer(channel, [queue], callbacks=[on_message]):
            for i in range(HPA_CHANGES):
                desired = 20 + i  # far from what the controller would choose, so no collision
                status = {"status": {"desiredReplicas": desired, "currentReplicas": 1}}
                started = time.perf_counter()
                autoscaling.patch_namespaced_horizontal_pod_autoscaler_status(
                    "hpa", namespace, status
                )
                if _wait_event(connection, received, desired):
                    samples.append(time.perf_counter() - started)
    if not samples:
        return _skipped("no workload.scaled event arrived")
    return latency_row("HPA change to workload.scaled received", samples, None)


def _wait_event(connection: Connection, received: list[dict], desired: int) -> bool:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if any(e["data"].get("to") == desired for e in received):
            return True
        try:
            connection.drain_events(timeout=0.2)
        except TimeoutError:
            continue
    return False
