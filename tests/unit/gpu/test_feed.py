"""The list-then-watch feed that keeps the inventory and the ledger current.

Faked: the cluster (FakeCluster answers listings and yields watch events from lists given by
the test, as services/gpu/cluster.py would after translating the kubernetes objects). Real:
the inventory, the ledger and its SQLite database.
"""

from collections.abc import Iterator

from sqlalchemy import select

from services.gpu.inventory import Inventory, NodeFacts, PodFacts
from services.gpu.models import OutboxEvent
from services.gpu.watcher import InventoryFeed
from shared.db import Database
from tests.unit.gpu.profile import gpu_pod, node


class FakeCluster:
    def __init__(self) -> None:
        self.nodes: list[NodeFacts] = []
        self.node_events: list[tuple[str, NodeFacts]] = []
        self.pods: list[PodFacts] = []
        self.pod_events: list[tuple[str, PodFacts]] = []
        self.namespace_lookups = 0

    def list_nodes(self) -> tuple[list[NodeFacts], str]:
        return self.nodes, "10"

    def watch_nodes(self, version: str) -> Iterator[tuple[str, NodeFacts]]:
        yield from self.node_events

    def list_pods(self) -> tuple[list[PodFacts], str]:
        return self.pods, "20"

    def watch_pods(self, version: str) -> Iterator[tuple[str, PodFacts]]:
        yield from self.pod_events

    def namespace_project(self, name: str) -> str | None:
        self.namespace_lookups += 1
        return "p1"


def test_listing_and_watching_keep_the_inventory_current(gpu_db: Database) -> None:
    cluster = FakeCluster()
    cluster.nodes = [node("gpu-t4-0", "Tesla-T4", 4), node("gpu-v100-0", "Tesla-V100", 2)]
    cluster.node_events = [("DELETED", node("gpu-v100-0", "Tesla-V100", 2))]
    cluster.pods = [gpu_pod("a", "gpu-t4-0", 1)]
    cluster.pod_events = [
        ("ADDED", gpu_pod("b", "gpu-t4-0", 2, "Pending")),
        ("MODIFIED", gpu_pod("b", "gpu-t4-0", 2, "Running")),
        ("DELETED", gpu_pod("a", "gpu-t4-0", 1)),
    ]
    inventory = Inventory()
    feed = InventoryFeed(inventory, gpu_db, cluster)  # type: ignore[arg-type]

    feed.nodes_loop()
    assert not inventory.synced  # pods not listed yet
    feed.pods_loop()

    assert inventory.synced
    assert list(inventory.nodes) == ["gpu-t4-0"]
    assert inventory.nodes["gpu-t4-0"].allocated == 2
    with gpu_db.transaction() as session:
        kinds = [
            (e.payload["type"], e.payload["resource"]["uid"])
            for e in session.scalars(select(OutboxEvent).order_by(OutboxEvent.seq))
        ]
    assert kinds == [("gpu.allocated", "a"), ("gpu.allocated", "b"), ("gpu.released", "a")]
    assert cluster.namespace_lookups == 1  # the namespace's project is cached
