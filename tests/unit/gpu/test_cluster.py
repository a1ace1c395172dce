"""The cluster-access module's translations, on kubernetes client objects built here.

Faked: nothing is called on a cluster; the V1Node / V1Pod objects and the ApiExceptions are
constructed by the test as the client would return or raise them.
"""

import pytest
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from services.gpu import cluster
from services.gpu.exceptions import ClusterRefused, ClusterUnavailable, WatchExpired


def test_a_node_becomes_node_facts() -> None:
    node = k8s.V1Node(
        metadata=k8s.V1ObjectMeta(
            name="gpu-t4-0",
            labels={"nvidia.com/gpu.product": "Tesla-T4", "kubernetes.io/arch": "amd64"},
        ),
        spec=k8s.V1NodeSpec(unschedulable=True),
        status=k8s.V1NodeStatus(
            capacity={"nvidia.com/gpu": "4", "cpu": "32"}, allocatable={"nvidia.com/gpu": "3"}
        ),
    )
    facts = cluster.node_facts(node)
    assert (facts.name, facts.product, facts.arch) == ("gpu-t4-0", "Tesla-T4", "amd64")
    assert (facts.capacity, facts.allocatable, facts.unschedulable) == (4, 3, True)


def test_a_pod_sums_its_containers_gpu_limits() -> None:
    def container(name: str, gpus: str | None) -> k8s.V1Container:
        limits = {"nvidia.com/gpu": gpus} if gpus else None
        return k8s.V1Container(name=name, resources=k8s.V1ResourceRequirements(limits=limits))

    pod = k8s.V1Pod(
        metadata=k8s.V1ObjectMeta(uid="u1", namespace="ns", name="p"),
        spec=k8s.V1PodSpec(
            node_name="gpu-t4-0",
            containers=[container("a", "1"), container("b", "2"), container("c", None)],
        ),
        status=k8s.V1PodStatus(phase="Running"),
    )
    facts = cluster.pod_facts(pod)
    assert (facts.count, facts.node, facts.phase) == (3, "gpu-t4-0", "Running")
    assert facts.holds_devices


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (410, WatchExpired),
        (500, ClusterUnavailable),
        (429, ClusterUnavailable),
        (403, ClusterRefused),
    ],
)
def test_api_exceptions_are_translated_with_the_original_chained(status: int, error: type) -> None:
    original = ApiException(status=status, reason="because")

    def failing() -> None:
        raise original

    with pytest.raises(error) as raised:
        cluster._translated(failing, "listing nodes")
    assert raised.value.__cause__ is original


def test_a_refused_connection_is_retryable() -> None:
    def refused() -> None:
        raise ConnectionRefusedError("no apiserver")

    with pytest.raises(ClusterUnavailable):
        cluster._translated(refused, "listing pods")
