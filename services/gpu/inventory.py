"""The GPU inventory: what each node has, what running pods hold, and what is free.

Fed by the node and pod watches (watcher.py), read by placement.py and the inventory RPC.
It is an in-memory index rebuilt from the cluster at every start, so the cluster stays the
source of truth:

- a node's devices are its `nvidia.com/gpu` allocatable, its model its product label;
- a node's allocated devices are the sum of the `nvidia.com/gpu` limits of the pods bound to it
  that have not terminated (the same count the scheduler and the device plugin use);
- placeable nodes (supported model, amd64, schedulable, some free device) are indexed per
  product label and free count, so a placement looks at a handful of buckets instead of
  scanning every node.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from services.gpu import matrix

TERMINATED_PHASES = frozenset({"Succeeded", "Failed"})


@dataclass(frozen=True)
class NodeFacts:
    """One node as the watch sees it (kubernetes objects never leave cluster.py)."""

    name: str
    arch: str | None
    product: str | None
    capacity: int
    allocatable: int
    unschedulable: bool = False
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PodFacts:
    """One pod that asks for GPUs: its `nvidia.com/gpu` limits summed over its containers."""

    uid: str
    namespace: str
    name: str
    node: str | None
    count: int
    phase: str

    @property
    def holds_devices(self) -> bool:
        return bool(self.node) and self.count > 0 and self.phase not in TERMINATED_PHASES


@dataclass
class GpuNode:
    facts: NodeFacts
    model: str | None
    supported: bool
    allocated: int = 0

    @property
    def name(self) -> str:
        return self.facts.name

    @property
    def free(self) -> int:
        return max(self.facts.allocatable - self.allocated, 0)

    @property
    def placeable(self) -> bool:
        return (
            self.supported
            and matrix.is_supported_arch(self.facts.arch)
            and not self.facts.unschedulable
            and self.free > 0
        )

    def view(self) -> dict[str, Any]:
        return {
            "node": self.name,
            "product": self.facts.product,
            "model": self.model,
            "arch": self.facts.arch,
            "supported": self.supported and matrix.is_supported_arch(self.facts.arch),
            "unsupported_reason": unsupported_reason(self),
            "capacity": self.facts.capacity,
            "allocatable": self.facts.allocatable,
            "allocated": self.allocated,
            "free": self.free,
            "unschedulable": self.facts.unschedulable,
        }


def unsupported_reason(node: GpuNode) -> str | None:
    if not matrix.is_supported_arch(node.facts.arch):
        return f"architecture {node.facts.arch}: GPUs are used on amd64 nodes only"
    if node.model is None:
        return "the node has no nvidia.com/gpu.product label"
    if not node.supported:
        return f"model {node.model} is not supported by driver {matrix.DRIVER_VERSION}"
    return None


class Inventory:
    """Nodes with GPUs, GPU pods, and the free-device index. Not thread-safe by itself:
    every writer runs in the same eventlet hub, and no method yields."""

    def __init__(self) -> None:
        self.nodes: dict[str, GpuNode] = {}
        self.pods: dict[str, PodFacts] = {}
        self.synced = False
        self._allocated: dict[str, int] = defaultdict(int)
        # product label -> free count -> node names
        self._index: dict[str, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))

    # -- nodes ------------------------------------------------------------------------------

    def upsert_node(self, facts: NodeFacts) -> None:
        if facts.allocatable <= 0 and facts.capacity <= 0 and not facts.product:
            self.remove_node(facts.name)  # no GPUs: not part of the inventory
            return
        self._unindex(facts.name)
        info = matrix.model_of(facts.product) if facts.product else None
        self.nodes[facts.name] = GpuNode(
            facts=facts,
            model=info.model if info else None,
            supported=bool(info and info.supported),
            allocated=self._allocated.get(facts.name, 0),
        )
        self._reindex(facts.name)

    def remove_node(self, name: str) -> None:
        self._unindex(name)
        self.nodes.pop(name, None)

    def replace_nodes(self, nodes: list[NodeFacts]) -> None:
        """A fresh listing: nodes missing from it are gone."""
        seen = {facts.name for facts in nodes}
        for name in list(self.nodes):
            if name not in seen:
                self.remove_node(name)
        for facts in nodes:
            self.upsert_node(facts)

    # -- pods -------------------------------------------------------------------------------

    def upsert_pod(self, pod: PodFacts) -> None:
        self._forget_pod(pod.uid)
        if pod.holds_devices:
            self.pods[pod.uid] = pod
            self._add_allocation(pod.node, pod.count)

    def remove_pod(self, uid: str) -> None:
        self._forget_pod(uid)

    def replace_pods(self, pods: list[PodFacts]) -> None:
        for uid in list(self.pods):
            self._forget_pod(uid)
        for pod in pods:
            self.upsert_pod(pod)

    def _forget_pod(self, uid: str) -> None:
        old = self.pods.pop(uid, None)
        if old is not None:
            self._add_allocation(old.node, -old.count)

    def _add_allocation(self, node: str | None, count: int) -> None:
        if not node:
            return
        self._allocated[node] += count
        if self._allocated[node] <= 0:
            del self._allocated[node]
        if node in self.nodes:
            self._unindex(node)
            self.nodes[node].allocated = self._allocated.get(node, 0)
            self._reindex(node)

    # -- the index --------------------------------------------------------------------------

    def _unindex(self, name: str) -> None:
        node = self.nodes.get(name)
        if node is None or not node.facts.product:
            return
        bucket = self._index[node.facts.product].get(node.free)
        if bucket is not None:
            bucket.discard(name)
            if not bucket:
                del self._index[node.facts.product][node.free]

    def _reindex(self, name: str) -> None:
        node = self.nodes[name]
        if node.placeable and node.facts.product:
            self._index[node.facts.product][node.free].add(name)

    def products_of(self, model: str) -> list[str]:
        """Product labels of placeable nodes that are this model."""
        return sorted(
            label
            for label, buckets in self._index.items()
            if buckets and matrix.model_of(label).model == model
        )

    def placeable_products(self) -> list[str]:
        return sorted(label for label, buckets in self._index.items() if buckets)

    def best_fit(self, product: str, count: int) -> tuple[str, int] | None:
        """The node of this product with the fewest free devices that still has `count`
        (keeps big nodes whole for big requests), as (node, free); None when none fits."""
        buckets = self._index.get(product)
        if not buckets:
            return None
        for free in sorted(f for f in buckets if f >= count):
            return min(buckets[free]), free
        return None

    def nodes_fitting(self, product: str, count: int, limit: int = 20) -> list[str]:
        buckets = self._index.get(product, {})
        names: list[str] = []
        for free in sorted((f for f in buckets if f >= count), reverse=True):
            names.extend(sorted(buckets[free]))
            if len(names) >= limit:
                break
        return names[:limit]

    # -- views ------------------------------------------------------------------------------

    def free_by_node(self, model: str | None = None, limit: int = 50) -> dict[str, Any]:
        """{node: {model, product, free}} of placeable nodes (of one model if given)."""
        answer: dict[str, Any] = {}
        for label in sorted(self._index):
            info = matrix.model_of(label)
            if model is not None and info.model != model:
                continue
            for free in sorted(self._index[label], reverse=True):
                for name in sorted(self._index[label][free]):
                    if len(answer) >= limit:
                        return answer
                    answer[name] = {"model": info.model, "product": label, "free": free}
        return answer

    def view(self) -> dict[str, Any]:
        nodes = [self.nodes[name].view() for name in sorted(self.nodes)]
        return {"synced": self.synced, "nodes": nodes, "models": self.summary()}

    def summary(self) -> list[dict[str, Any]]:
        """Per model and architecture: devices, allocated, free; no node names."""
        rows: dict[tuple[str, str, bool], dict[str, Any]] = {}
        for node in self.nodes.values():
            supported = node.supported and matrix.is_supported_arch(node.facts.arch)
            key = (node.model or "unknown", node.facts.arch or "unknown", supported)
            row = rows.setdefault(
                key,
                {
                    "model": key[0],
                    "arch": key[1],
                    "supported": supported,
                    "nodes": 0,
                    "allocatable": 0,
                    "allocated": 0,
                    "free": 0,
                    "max_free_on_one_node": 0,
                },
            )
            free = node.free if not node.facts.unschedulable else 0
            row["nodes"] += 1
            row["allocatable"] += node.facts.allocatable
            row["allocated"] += node.allocated
            row["free"] += free
            row["max_free_on_one_node"] = max(row["max_free_on_one_node"], free)
        return [rows[key] for key in sorted(rows)]
