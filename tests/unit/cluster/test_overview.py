"""Overview and node summaries from recorded API dictionaries (pure functions, no fakes)."""

from services.cluster import overview
from tests.unit.cluster.conftest import node


def pod(node_name: str, cpu: str, memory: str, phase: str = "Running", **extra) -> dict:
    spec = {
        "nodeName": node_name,
        "containers": [{"resources": {"requests": {"cpu": cpu, "memory": memory}}}],
        **extra,
    }
    return {
        "metadata": {"namespace": "ns", "name": f"p-{cpu}"},
        "spec": spec,
        "status": {"phase": phase},
    }


def test_pod_requests_add_overhead_and_take_the_largest_init_container():
    p = pod(
        "n1",
        "500m",
        "1Gi",
        overhead={"cpu": "250m", "memory": "160Mi"},
        initContainers=[{"resources": {"requests": {"cpu": "2", "memory": "10Mi"}}}],
    )
    assert overview.pod_requests(p) == {
        "cpu": 2000 + 250,
        "memory": 2**30 + 160 * 2**20,
        "gpu": 0,
        "pods": 1,
    }


def test_gpu_requests_are_counted():
    p = pod("n1", "1", "1Gi")
    p["spec"]["containers"][0]["resources"]["requests"]["nvidia.com/gpu"] = "2"
    assert overview.pod_requests(p)["gpu"] == 2


def test_node_summary_counts_only_active_pods_bound_to_it():
    pods = [pod("n1", "1", "1Gi"), pod("n1", "2", "1Gi", phase="Succeeded"), pod("n2", "4", "1Gi")]
    row = overview.node_summary(
        node("n1", {"kubernetes.io/arch": "arm64", "katacontainers.io/kata-runtime": "true"}), pods
    )
    assert row["allocated"]["cpu"] == 1000 and row["pod_count"] == 1
    assert row["architecture"] == "arm64" and row["kata"] is True
    assert row["capacity"]["memory"] == 64 * 2**30
    assert row["allocatable"]["cpu"] == 15890
    assert row["roles"] == ["worker"] and row["ready"] is True


def test_cluster_overview_groups_nodes_and_sums_resources():
    gpu = node("g1", {"kubernetes.io/arch": "amd64", "nvidia.com/gpu.product": "Tesla-T4"})
    gpu["status"]["capacity"]["nvidia.com/gpu"] = "4"
    nodes = [node("n1"), node("n2", unschedulable=True), gpu]
    rc = {
        "metadata": {"name": "kata"},
        "handler": "kata-qemu",
        "overhead": {"podFixed": {"cpu": "250m", "memory": "160Mi"}},
        "scheduling": {"nodeSelector": {"katacontainers.io/kata-runtime": "true"}},
    }
    answer = overview.cluster_overview(
        {"gitVersion": "v1.36.3"}, nodes, [pod("n1", "1", "1Gi")], [rc]
    )
    assert answer["kubernetes_version"] == "v1.36.3"
    assert answer["nodes"]["total"] == 3 and answer["nodes"]["unschedulable"] == 1
    assert answer["nodes"]["by_architecture"] == {"amd64": 3}
    assert answer["nodes"]["gpu_products"] == {"Tesla-T4": 1}
    assert answer["resources"]["capacity"]["cpu"] == 48000
    assert answer["resources"]["capacity"]["gpu"] == 4
    assert answer["resources"]["allocated"] == {"cpu": 1000, "memory": 2**30, "gpu": 0, "pods": 1}
    assert answer["runtime_classes"] == [
        {
            "name": "kata",
            "handler": "kata-qemu",
            "overhead": {"cpu": 250, "memory": 160 * 2**20},
            "node_selector": {"katacontainers.io/kata-runtime": "true"},
        }
    ]
