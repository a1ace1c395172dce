"""What a workload's pods report: pod.started / pod.stopped with billing fields, and metrics."""

from __future__ import annotations

from kubernetes import client as k8s

from tests.e2e.workload.conftest import EventTap, wait_until
from tests.e2e.workload.test_create import create, deployment
from tests.e2e.workload.test_lifecycle import Api
from tests.interface.gateway.conftest import Client

USAGE = "kwok.x-k8s.io/usage-cpu"


def test_pod_events_carry_what_billing_needs(
    client: Client, tenant: dict, namespace: str, core: k8s.CoreV1Api, events: EventTap
) -> None:
    body = deployment("metered")
    container = body["spec"]["template"]["spec"]["containers"][0]
    container["resources"] = {
        "requests": {"cpu": "300m", "memory": "256Mi"},
        "limits": {"nvidia.com/gpu": "1"},
    }
    assert create(client, tenant, namespace, [body]).status == 201

    started = events.wait_for(
        lambda e: e["type"] == "pod.started" and e["resource"]["namespace"] == namespace,
        timeout=60,
    )
    data = started["data"]
    assert data["workload"] == {"kind": "Deployment", "name": "metered"}
    assert (data["cpu_millicores"], data["memory_bytes"]) == (300, 256 * 2**20)
    assert (data["overhead_cpu_millicores"], data["overhead_memory_bytes"]) == (250, 160 * 2**20)
    assert data["gpu_count"] == 1
    node = core.read_node(data["node"])
    assert data["gpu_model"] == node.metadata.labels["nvidia.com/gpu.product"]
    assert started["project"] == tenant["project"]

    api = Api(client, tenant, namespace, "metered")
    assert api.call("DELETE").status == 200
    stopped = events.wait_for(
        lambda e: (
            e["type"] == "pod.stopped" and e["resource"]["uid"] == started["resource"]["uid"]
        ),
        timeout=60,
    )
    assert stopped["data"]["gpu_count"] == 1
    assert [e["type"] for e in events.received].count("pod.started") == 1


def test_metrics_per_pod_and_per_workload(client: Client, tenant: dict, namespace: str) -> None:
    body = deployment("busy", replicas=2)
    body["spec"]["template"]["metadata"]["annotations"] = {USAGE: "150m"}
    assert create(client, tenant, namespace, [body]).status == 201
    api = Api(client, tenant, namespace, "busy")

    def measured() -> dict | None:
        answer = api.call("GET", "/metrics").body
        return answer if len(answer["pods"]) == 2 else None

    metrics = wait_until("metrics of both pods", measured, timeout=90, interval=2)
    assert all(pod["cpu_millicores"] == 150 for pod in metrics["pods"])
    assert metrics["cpu_millicores"] == 300
