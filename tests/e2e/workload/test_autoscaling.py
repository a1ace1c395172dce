"""Autoscaling end to end: php-apache with its HPA (../shared/inputs) scales out when the usage
rises and back in when it falls; the HPA watcher announces each change as `workload.scaled`.

Usage is simulated the way the local cluster provides it: the pods' `kwok.x-k8s.io/usage-cpu`
annotation, set here on the pod template with the kubernetes client (the test plays the load),
is served by KWOK to metrics-server, which the real HPA controller reads.
"""

from __future__ import annotations

from kubernetes import client as k8s

from tests.e2e.workload.conftest import EventTap, load_input, wait_until
from tests.e2e.workload.test_create import create
from tests.e2e.workload.test_lifecycle import Api
from tests.interface.gateway.conftest import Client

USAGE = "kwok.x-k8s.io/usage-cpu"
MAX_REPLICAS = 4


def test_php_apache_scales_out_and_in_and_each_change_is_announced(
    client: Client,
    tenant: dict,
    namespace: str,
    apps: k8s.AppsV1Api,
    events: EventTap,
) -> None:
    # The Service of the stream belongs to the network service (not started in this suite).
    docs = [d for d in load_input("php-apache-hpa.yaml") if d["kind"] != "Service"]
    hpa = [d for d in docs if d["kind"] == "HorizontalPodAutoscaler"][0]
    hpa["spec"]["maxReplicas"] = MAX_REPLICAS
    reply = create(client, tenant, namespace, docs)
    assert reply.status == 201, reply.body
    assert reply.body["workloads"][0]["autoscaling_max"] == MAX_REPLICAS
    assert reply.body["workloads"][0]["quota_pods"] == MAX_REPLICAS

    def set_usage(cpu: str) -> None:
        patch = {"spec": {"template": {"metadata": {"annotations": {USAGE: cpu}}}}}
        apps.patch_namespaced_deployment("php-apache", namespace, patch)

    def replicas() -> int:
        return apps.read_namespaced_deployment("php-apache", namespace).spec.replicas

    set_usage("400m")  # 200 % of the 200m request against a 50 % target
    wait_until(f"a scale-out to {MAX_REPLICAS}", lambda: replicas() == MAX_REPLICAS, timeout=180)
    out = events.wait_for(
        lambda e: e["type"] == "workload.scaled" and e["data"]["to"] == MAX_REPLICAS, timeout=30
    )
    assert out["data"]["reason"] == "hpa"
    assert out["resource"]["name"] == "php-apache"
    assert out["data"]["metrics"][0]["name"] == "cpu"
    assert out["data"]["metrics"][0]["target"] == 50
    first = [e for e in events.received if e["type"] == "workload.scaled"][0]
    assert first["data"]["from"] == 1

    set_usage("10m")
    wait_until("a scale-in to 1", lambda: replicas() == 1, timeout=180)
    back = events.wait_for(
        lambda e: e["type"] == "workload.scaled" and e["data"]["to"] == 1, timeout=30
    )
    assert back["data"]["from"] > 1

    # exactly once per change: consecutive events chain from -> to without repeats
    scaled = [e["data"] for e in events.received if e["type"] == "workload.scaled"]
    for before, after in zip(scaled, scaled[1:], strict=False):
        assert after["from"] == before["to"]
    record = client.call(
        "GET",
        f"/api/v1/projects/{tenant['project']}/workloads/php-apache",
        token=tenant["token"],
        params={"namespace": namespace},
    )
    assert record.body["replicas"] == 1


def test_autoscaling_policy_through_the_api(
    client: Client, tenant: dict, namespace: str, api_client: k8s.ApiClient
) -> None:
    autoscaling = k8s.AutoscalingV2Api(api_client)
    api = Api(client, tenant, namespace, "elastic")
    api.create(replicas=1)

    reply = api.call(
        "PUT",
        "/autoscaling",
        {"min_replicas": 1, "max_replicas": 3, "cpu_utilization": 60, "memory_utilization": 70},
    )

    assert reply.status == 200, reply.body
    assert reply.body["quota_pods"] == 3
    hpa = autoscaling.read_namespaced_horizontal_pod_autoscaler("elastic", namespace)
    assert hpa.spec.max_replicas == 3
    assert sorted(m.resource.name for m in hpa.spec.metrics) == ["cpu", "memory"]

    bad = api.call(
        "PUT", "/autoscaling", {"min_replicas": 5, "max_replicas": 3, "cpu_utilization": 50}
    )
    assert bad.status == 400 and "min_replicas" in bad.body["details"]["fields"]

    off = api.call("PUT", "/autoscaling", {"enabled": False})
    assert off.status == 200 and off.body["quota_pods"] == 1
    wait_until(
        "the HPA removed",
        lambda: not autoscaling.list_namespaced_horizontal_pod_autoscaler(namespace).items,
    )
