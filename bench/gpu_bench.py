"""GPU placement decision time over an inventory of 5,000 simulated nodes (no cluster).

The inventory is the gpu service's own in-memory index (services/gpu/inventory.py), filled
with NodeFacts for 5,000 nodes of mixed models (supported and not, some Arm, some cordoned)
and PodFacts that hold part of their devices, as the watches would fill it.

The value: `placement.decide` for a mix of requests ("N x model", "N x any"; N from 1 to 8),
which reads the per-product free-count buckets. The baseline: a naive placement that scans
every node per request with the same rules (supported amd64 model, schedulable, enough free,
tightest fit). Both must choose a node with the same free count for each request; the ratio
value / baseline is the share of the scan's time the index needs.
"""

from __future__ import annotations

import random
import time
from typing import Any

from bench.stats import latency_row
from services.gpu import matrix, placement
from services.gpu.exceptions import GpusInsufficient
from services.gpu.inventory import Inventory, NodeFacts, PodFacts

NODES = 5000
REQUESTS = 2000
POOLS = (  # product label, devices per node, arch, weight
    ("Tesla-T4", 4, "amd64", 30),
    ("Tesla-T4", 8, "amd64", 10),
    ("Tesla-V100-SXM2-16GB", 8, "amd64", 15),
    ("Tesla-P100-PCIE-16GB", 4, "amd64", 10),
    ("Tesla-P4", 2, "amd64", 5),
    ("Quadro-RTX-8000", 2, "amd64", 5),
    ("NVIDIA-A100-SXM4-40GB", 8, "amd64", 15),
    ("NVIDIA-T4G", 2, "arm64", 10),
)
MODELS = ("T4", "V100", "P100", "P4", "RTX-8000", "any")


def build_inventory(seed: int = 5) -> Inventory:
    rng = random.Random(seed)
    weights = [p[3] for p in POOLS]
    inventory = Inventory()
    nodes, pods = [], []
    for i in range(NODES):
        product, count, arch, _ = rng.choices(POOLS, weights)[0]
        name = f"node-{i:05d}"
        nodes.append(
            NodeFacts(
                name=name,
                arch=arch,
                product=product,
                capacity=count,
                allocatable=count,
                unschedulable=rng.random() < 0.02,
            )
        )
        held = rng.randint(0, count)
        if held:
            pods.append(PodFacts(f"uid-{i}", "bench", f"pod-{i}", name, held, "Running"))
    inventory.replace_nodes(nodes)
    inventory.replace_pods(pods)
    inventory.synced = True
    return inventory


def naive_place(inventory: Inventory, count: int, model: str | None) -> int | None:
    """Scan every node; the free count of the tightest fit, None when nothing fits."""
    best: tuple[int, str] | None = None
    for node in inventory.nodes.values():
        if not (node.supported and matrix.is_supported_arch(node.facts.arch)):
            continue
        if node.facts.unschedulable or node.free < count:
            continue
        if model is not None and node.model != model:
            continue
        if best is None or (node.free, node.name) < best:
            best = (node.free, node.name)
    return best[0] if best else None


def _requests(seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [{"count": rng.randint(1, 8), "model": rng.choice(MODELS)} for _ in range(REQUESTS)]


def _indexed(inventory: Inventory, request: dict[str, Any]) -> int | None:
    try:
        answer = placement.decide(inventory, request)
    except GpusInsufficient:
        return None
    return inventory.nodes[answer["suggested_node"]].free


def run() -> list[dict[str, Any]]:
    inventory = build_inventory()
    requests = [{**r, "cuda_version": None} for r in _requests()]
    indexed_s, naive_s = [], []
    for request in requests:
        model = None if request["model"] == "any" else request["model"]
        start = time.perf_counter()
        chosen = _indexed(inventory, request)
        indexed_s.append(time.perf_counter() - start)

        start = time.perf_counter()
        expected = naive_place(inventory, request["count"], model)
        naive_s.append(time.perf_counter() - start)
        if chosen != expected:
            raise AssertionError(f"index and scan disagree on {request}: {chosen} != {expected}")
    return latency_row(
        f"gpu placement decision, {NODES} nodes",
        indexed_s,
        naive_s,
        "naive scan of every node",
    )


if __name__ == "__main__":
    for row in run():
        print(row)
