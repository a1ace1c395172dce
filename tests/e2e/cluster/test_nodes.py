"""The declared node profile is applied, every node is Ready, the Kata RuntimeClass exists."""

import pytest
from kubernetes import client

pytestmark = pytest.mark.e2e

GPU = "nvidia.com/gpu"


def expected_nodes(profile: dict) -> dict[str, dict]:
    return {f"{pool['name']}-{i}": pool for pool in profile["pools"] for i in range(pool["count"])}


def test_every_profile_node_is_ready(core: client.CoreV1Api, profile: dict) -> None:
    nodes = {n.metadata.name: n for n in core.list_node().items}
    expected = expected_nodes(profile)

    assert set(expected) <= set(nodes)
    for name in expected:
        ready = [c for c in nodes[name].status.conditions if c.type == "Ready"]
        assert ready and ready[0].status == "True", name


def test_nodes_carry_the_declared_capacity_and_labels(
    core: client.CoreV1Api, profile: dict
) -> None:
    nodes = {n.metadata.name: n for n in core.list_node().items}

    for name, pool in expected_nodes(profile).items():
        node = nodes[name]
        labels = node.metadata.labels
        assert labels["kubernetes.io/arch"] == pool["arch"]
        assert labels["node.kubernetes.io/instance-type"] == pool["instanceType"]
        assert node.status.allocatable["cpu"] == str(pool["allocatable"]["cpu"])
        assert node.status.capacity["memory"] == pool["capacity"]["memory"]
        if pool.get("kata"):
            assert labels["katacontainers.io/kata-runtime"] == "true"
        gpu = pool.get("gpu")
        if gpu:
            assert labels["nvidia.com/gpu.product"] == gpu["product"]
            assert node.status.allocatable[GPU] == str(gpu["count"])
        else:
            assert GPU not in node.status.allocatable


def test_profile_has_the_node_kinds_the_platform_must_handle(
    core: client.CoreV1Api,
) -> None:
    nodes = core.list_node().items

    def product(n: client.V1Node) -> str | None:
        return n.metadata.labels.get("nvidia.com/gpu.product")

    cpu_only_x86 = [
        n
        for n in nodes
        if n.metadata.labels["kubernetes.io/arch"] == "amd64"
        and GPU not in n.status.allocatable
        and n.metadata.labels.get("katacontainers.io/kata-runtime") == "true"
    ]
    assert len(cpu_only_x86) >= 4
    assert [product(n) for n in nodes].count("Tesla-T4") == 2
    assert any(product(n) == "Tesla-V100-SXM2-16GB" for n in nodes)
    assert any(product(n) and "A100" in product(n) for n in nodes)
    assert any(
        n.metadata.labels["kubernetes.io/arch"] == "arm64" and GPU in n.status.allocatable
        for n in nodes
    )


def test_kata_runtime_class_exists(api_client: client.ApiClient) -> None:
    runtime_class = client.NodeV1Api(api_client).read_runtime_class("kata")

    assert runtime_class.handler == "kata-qemu"
    assert runtime_class.overhead.pod_fixed == {"cpu": "250m", "memory": "160Mi"}
    assert runtime_class.scheduling.node_selector == {"katacontainers.io/kata-runtime": "true"}
