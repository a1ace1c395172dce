"""Cluster overview over a large simulated cluster (no cluster needed).

Input: 500 nodes and 15,000 pods as the API answers them (plain dictionaries), a mix of
running, pending and finished pods, some with the Kata overhead and init containers.

The value: `overview.cluster_overview` (services/cluster/overview.py), which groups pods by
node in one pass. The baseline: the same summaries computed by scanning the whole pod list for
every node (what a per-node filter does). Both must produce the same totals; the ratio
value / baseline is the share of the scan's time the grouping needs.
"""

from __future__ import annotations

import random
import time
from typing import Any

from bench.stats import latency_row
from services.cluster import overview

NODES = 500
PODS = 15_000
ROUNDS = 5


def build(seed: int = 8) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rng = random.Random(seed)
    nodes = [
        {
            "metadata": {
                "name": f"node-{i:05d}",
                "labels": {"kubernetes.io/arch": rng.choice(("amd64", "arm64"))},
            },
            "spec": {},
            "status": {
                "capacity": {"cpu": "32", "memory": "128Gi", "pods": "110"},
                "allocatable": {"cpu": "31850m", "memory": "120Gi", "pods": "110"},
                "conditions": [{"type": "Ready", "status": "True"}],
            },
        }
        for i in range(NODES)
    ]
    pods = []
    for i in range(PODS):
        spec: dict[str, Any] = {
            "containers": [
                {
                    "resources": {
                        "requests": {
                            "cpu": f"{rng.randint(1, 20) * 50}m",
                            "memory": f"{rng.randint(1, 64)}Mi",
                        }
                    }
                }
            ],
        }
        if rng.random() < 0.95:
            spec["nodeName"] = f"node-{rng.randrange(NODES):05d}"
        if rng.random() < 0.5:
            spec["overhead"] = {"cpu": "250m", "memory": "160Mi"}
        phase = rng.choices(("Running", "Pending", "Succeeded"), (85, 5, 10))[0]
        pods.append(
            {
                "metadata": {"namespace": "ns", "name": f"p{i}"},
                "spec": spec,
                "status": {"phase": phase},
            }
        )
    return nodes, pods


def scan_baseline(nodes: list[dict[str, Any]], pods: list[dict[str, Any]]) -> dict[str, Any]:
    summaries = [overview.node_summary(node, pods) for node in nodes]
    return overview.summarise({"gitVersion": "bench"}, summaries, [])


def run() -> list[dict[str, Any]]:
    nodes, pods = build()
    grouped, scanned = [], []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        fast = overview.cluster_overview({"gitVersion": "bench"}, nodes, pods, [])
        grouped.append(time.perf_counter() - start)
    for _ in range(2):
        start = time.perf_counter()
        slow = scan_baseline(nodes, pods)
        scanned.append(time.perf_counter() - start)
    if fast["resources"] != slow["resources"]:
        raise AssertionError("the grouped overview and the scan disagree")
    return latency_row(
        f"cluster overview ({NODES} nodes, {PODS} pods)", grouped, scanned, "scan per node"
    )


if __name__ == "__main__":
    for row in run():
        print(row)
