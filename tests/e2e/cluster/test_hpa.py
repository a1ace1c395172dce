"""The real HPA controller scales the php-apache Deployment (../shared/inputs) on CPU usage.

Usage comes from the pods' `kwok.x-k8s.io/usage-cpu` annotation: KWOK serves it as the
kubelet's /metrics/resource, metrics-server scrapes it every 10 s, and the controller-manager's
HPA controller (5 s sync, 15 s downscale stabilisation in the local cluster) acts on it.
The annotation is set on the pod template, so pods added by a scale-up report the same usage.
"""

import pytest
from kubernetes import client, utils

from .support import load_input, wait_until

pytestmark = pytest.mark.e2e

USAGE = "kwok.x-k8s.io/usage-cpu"
MAX_REPLICAS = 5


@pytest.fixture
def php_apache(api_client: client.ApiClient, namespace: str) -> str:
    docs = {doc["kind"]: doc for doc in load_input("php-apache-hpa.yaml")}
    hpa = docs["HorizontalPodAutoscaler"]
    hpa["spec"]["maxReplicas"] = MAX_REPLICAS
    assert hpa["spec"]["minReplicas"] == 1
    assert hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 50
    for kind in ("Deployment", "Service", "HorizontalPodAutoscaler"):
        utils.create_from_dict(api_client, docs[kind], namespace=namespace)
    return "php-apache"


def test_hpa_scales_up_with_usage_and_back_down(
    api_client: client.ApiClient, apps: client.AppsV1Api, namespace: str, php_apache: str
) -> None:
    autoscaling = client.AutoscalingV2Api(api_client)

    def hpa_state() -> str:
        status = autoscaling.read_namespaced_horizontal_pod_autoscaler(php_apache, namespace)
        status = status.status
        conditions = "; ".join(f"{c.type}={c.status} {c.message}" for c in status.conditions or [])
        return (
            f"current={status.current_replicas} desired={status.desired_replicas} "
            f"metrics={status.current_metrics} conditions: {conditions}"
        )

    def utilization() -> int | None:
        status = autoscaling.read_namespaced_horizontal_pod_autoscaler(php_apache, namespace)
        for metric in status.status.current_metrics or []:
            if metric.resource and metric.resource.name == "cpu":
                return metric.resource.current.average_utilization
        return None

    def replicas() -> int:
        return apps.read_namespaced_deployment_scale(php_apache, namespace).spec.replicas

    def set_usage(cpu: str) -> None:
        patch = {"spec": {"template": {"metadata": {"annotations": {USAGE: cpu}}}}}
        apps.patch_namespaced_deployment(php_apache, namespace, patch)

    # Idle pods (1m of the 200m request): the HPA reads a utilisation and keeps one replica.
    wait_until(
        "the HPA to read CPU utilisation",
        lambda: utilization() is not None,
        timeout=120,
        interval=2,
        explain=hpa_state,
    )
    assert utilization() < 50
    assert replicas() == 1

    # 400m is 200 % of the request: one replica becomes ceil(1 * 200 / 50) = 4 at once (the
    # default scale-up policy allows +4 pods per 15 s), then the maximum.
    set_usage("400m")
    wait_until(
        "a scale-up to at least 4 replicas",
        lambda: replicas() >= 4,
        timeout=120,
        interval=2,
        explain=hpa_state,
    )
    assert replicas() <= MAX_REPLICAS

    set_usage("20m")  # 10 %: back to the minimum once the stabilisation window has passed
    wait_until(
        "a scale-down to 1 replica",
        lambda: replicas() == 1,
        timeout=120,
        interval=2,
        explain=hpa_state,
    )
