"""A ResourceQuota makes the apiserver reject a pod that would exceed it."""

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from .support import wait_until

pytestmark = pytest.mark.e2e


def pod(name: str, cpu: str, runtime_class: str | None = None) -> client.V1Pod:
    resources = client.V1ResourceRequirements(
        requests={"cpu": cpu, "memory": "64Mi"}, limits={"cpu": cpu, "memory": "64Mi"}
    )
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1PodSpec(
            containers=[client.V1Container(name="app", image="nginx:1.27", resources=resources)],
            runtime_class_name=runtime_class,
        ),
    )


@pytest.fixture
def quota(core: client.CoreV1Api, namespace: str) -> str:
    core.create_namespaced_resource_quota(
        namespace,
        client.V1ResourceQuota(
            metadata=client.V1ObjectMeta(name="tenant"),
            spec=client.V1ResourceQuotaSpec(
                hard={"requests.cpu": "1", "limits.cpu": "2", "pods": "3"}
            ),
        ),
    )
    # Until the quota controller has filled in its status the apiserver refuses every pod.
    wait_until(
        "the quota controller to compute the quota's status",
        lambda: core.read_namespaced_resource_quota("tenant", namespace).status.hard,
    )
    return "tenant"


def test_pod_over_quota_is_rejected(core: client.CoreV1Api, namespace: str, quota: str) -> None:
    core.create_namespaced_pod(namespace, pod("fits", "500m"))

    with pytest.raises(ApiException) as rejected:
        core.create_namespaced_pod(namespace, pod("too-big", "600m"))

    assert rejected.value.status == 403
    assert "exceeded quota: tenant" in rejected.value.body
    assert "requests.cpu" in rejected.value.body


def test_quota_counts_the_kata_overhead(
    core: client.CoreV1Api, namespace: str, quota: str
) -> None:
    # 800m asked for, plus the RuntimeClass's 250m sandbox overhead, is more than 1 CPU.
    with pytest.raises(ApiException) as rejected:
        core.create_namespaced_pod(namespace, pod("sandboxed", "800m", runtime_class="kata"))

    assert rejected.value.status == 403
    assert "exceeded quota: tenant" in rejected.value.body

    core.create_namespaced_pod(namespace, pod("sandboxed-small", "700m", runtime_class="kata"))
    used = wait_until(
        "the quota's usage to include the pod",
        lambda: (
            core.read_namespaced_resource_quota(quota, namespace).status.used.get("pods") == "1"
            and core.read_namespaced_resource_quota(quota, namespace).status.used
        ),
    )
    assert used["requests.cpu"] == "950m"
