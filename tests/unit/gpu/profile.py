"""An in-memory inventory shaped like the local cluster's node profile (deploy/cluster/
nodes.yaml): built from NodeFacts directly, no cluster involved."""

from __future__ import annotations

from services.gpu.inventory import Inventory, NodeFacts, PodFacts


def node(name: str, product: str | None, count: int, arch: str = "amd64") -> NodeFacts:
    return NodeFacts(name=name, arch=arch, product=product, capacity=count, allocatable=count)


def profile_inventory() -> Inventory:
    inventory = Inventory()
    inventory.replace_nodes(
        [
            node("cpu-0", None, 0),
            node("gpu-t4-0", "Tesla-T4", 4),
            node("gpu-t4-1", "Tesla-T4", 4),
            node("gpu-v100-0", "Tesla-V100-SXM2-16GB", 2),
            node("gpu-a100-0", "NVIDIA-A100-SXM4-40GB", 1),
            node("arm-gpu-0", "NVIDIA-T4G", 1, arch="arm64"),
        ]
    )
    inventory.replace_pods([])
    inventory.synced = True
    return inventory


def gpu_pod(uid: str, node: str | None, count: int, phase: str = "Running") -> PodFacts:
    return PodFacts(
        uid=uid, namespace="ns", name=f"pod-{uid}", node=node, count=count, phase=phase
    )
