"""The scheduler places pods on KWOK nodes; GPU requests land on matching nodes or stay Pending."""

import ipaddress

import pytest
from kubernetes import client

from .support import is_running_and_ready, pods_of, wait_until

pytestmark = pytest.mark.e2e

T4 = {"nvidia.com/gpu.product": "Tesla-T4"}
CLUSTER_CIDR = ipaddress.ip_network("10.0.0.0/8")


def deployment(name: str, replicas: int) -> client.V1Deployment:
    labels = {"app": name}
    container = client.V1Container(
        name="web",
        image="nginx:1.27",
        resources=client.V1ResourceRequirements(requests={"cpu": "100m", "memory": "64Mi"}),
    )
    return client.V1Deployment(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1DeploymentSpec(
            replicas=replicas,
            selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=client.V1PodSpec(containers=[container], runtime_class_name="kata"),
            ),
        ),
    )


def gpu_pod(name: str, count: int) -> client.V1Pod:
    container = client.V1Container(
        name="cuda",
        image="nvidia/cuda:11.2.2-base-ubuntu20.04",
        resources=client.V1ResourceRequirements(limits={"nvidia.com/gpu": str(count)}),
    )
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name, labels={"app": "gpu"}),
        spec=client.V1PodSpec(containers=[container], node_selector=T4, runtime_class_name="kata"),
    )


def test_deployment_reaches_three_running_pods(
    core: client.CoreV1Api, apps: client.AppsV1Api, namespace: str
) -> None:
    apps.create_namespaced_deployment(namespace, deployment("web", 3))

    pods = wait_until(
        "3 Running and Ready pods",
        lambda: (
            (p := pods_of(core, namespace, "app=web"))
            and len(p) == 3
            and all(map(is_running_and_ready, p))
            and p
        ),
    )

    for pod in pods:
        assert pod.spec.node_name
        assert pod.spec.scheduler_name == "default-scheduler"
        assert ipaddress.ip_address(pod.status.pod_ip) in CLUSTER_CIDR
        # RuntimeClass admission added the sandbox overhead and the Kata node selector.
        assert pod.spec.overhead == {"cpu": "250m", "memory": "160Mi"}
        node = core.read_node(pod.spec.node_name)
        assert node.metadata.labels["katacontainers.io/kata-runtime"] == "true"
    status = apps.read_namespaced_deployment_status("web", namespace).status
    assert status.ready_replicas == 3


def test_gpu_pod_lands_on_a_t4_node_or_waits_with_an_event(
    core: client.CoreV1Api, namespace: str
) -> None:
    # Two-GPU pods fill the T4 nodes (2 nodes x 4 GPUs); the first that does not fit stays
    # Pending. Other GPU pods in the cluster only make that happen sooner.
    placed: list[client.V1Pod] = []
    pending = None
    for i in range(5):
        name = f"gpu-{i}"
        core.create_namespaced_pod(namespace, gpu_pod(name, 2))
        pod = wait_until(
            f"{name} to be bound or rejected by the scheduler",
            lambda n=name: _bound_or_unschedulable(core, namespace, n),
        )
        if pod.spec.node_name is None:
            pending = name
            break
        placed.append(pod)

    assert placed, "not even the first 2-GPU pod found a T4 node"
    for pod in placed:
        node = core.read_node(pod.spec.node_name)
        assert node.metadata.labels["nvidia.com/gpu.product"] == "Tesla-T4"
    assert pending is not None, "five 2-GPU pods fit on two 4-GPU nodes"

    events = wait_until(
        f"a FailedScheduling event for {pending}",
        lambda: (
            core.list_namespaced_event(
                namespace,
                field_selector=f"involvedObject.name={pending},reason=FailedScheduling",
            ).items
        ),
    )
    assert "Insufficient nvidia.com/gpu" in events[0].message
    assert core.read_namespaced_pod(pending, namespace).status.phase == "Pending"


def _bound_or_unschedulable(
    core: client.CoreV1Api, namespace: str, name: str
) -> client.V1Pod | None:
    pod = core.read_namespaced_pod(name, namespace)
    if pod.spec.node_name:
        return pod
    for condition in pod.status.conditions or []:
        if condition.type == "PodScheduled" and condition.reason == "Unschedulable":
            return pod
    return None
