"""The inventory index: allocation bookkeeping, node changes, views (in memory, no cluster)."""

from services.gpu.inventory import Inventory
from tests.unit.gpu.profile import gpu_pod, node, profile_inventory


def test_nodes_without_gpus_are_left_out() -> None:
    inventory = profile_inventory()
    assert "cpu-0" not in inventory.nodes
    assert len(inventory.nodes) == 5


def test_allocation_follows_pod_changes_and_is_idempotent() -> None:
    inventory = profile_inventory()
    pod = gpu_pod("a", "gpu-t4-0", 2)
    inventory.upsert_pod(pod)
    inventory.upsert_pod(pod)  # the same event twice
    assert inventory.nodes["gpu-t4-0"].allocated == 2
    assert inventory.best_fit("Tesla-T4", 2) == ("gpu-t4-0", 2)

    inventory.remove_pod("a")
    inventory.remove_pod("a")
    assert inventory.nodes["gpu-t4-0"].allocated == 0
    assert inventory.best_fit("Tesla-T4", 4) == ("gpu-t4-0", 4)


def test_a_pod_seen_before_its_node_still_counts() -> None:
    inventory = Inventory()
    inventory.upsert_pod(gpu_pod("a", "gpu-late-0", 1))
    inventory.upsert_node(node("gpu-late-0", "Tesla-P100-PCIE-16GB", 2))
    assert inventory.nodes["gpu-late-0"].free == 1


def test_replace_nodes_forgets_deleted_nodes() -> None:
    inventory = profile_inventory()
    inventory.replace_nodes([node("gpu-t4-0", "Tesla-T4", 4)])
    assert list(inventory.nodes) == ["gpu-t4-0"]
    assert inventory.best_fit("Tesla-V100-SXM2-16GB", 1) is None


def test_views_report_reasons_and_totals() -> None:
    inventory = profile_inventory()
    inventory.upsert_pod(gpu_pod("a", "gpu-t4-0", 1))
    nodes = {n["node"]: n for n in inventory.view()["nodes"]}
    assert nodes["arm-gpu-0"]["supported"] is False
    assert "arm64" in nodes["arm-gpu-0"]["unsupported_reason"]
    assert "A100" in nodes["gpu-a100-0"]["unsupported_reason"]
    assert nodes["gpu-t4-0"]["free"] == 3

    summary = {(row["model"], row["arch"]): row for row in inventory.summary()}
    t4 = summary[("T4", "amd64")]
    assert (t4["nodes"], t4["allocatable"], t4["allocated"], t4["free"]) == (2, 8, 1, 7)
    assert t4["max_free_on_one_node"] == 4
    assert summary[("T4G", "arm64")]["supported"] is False
