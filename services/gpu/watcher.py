"""Keeps the GPU inventory current: a node watch and a pod watch, each in its own greenthread.

Each loop lists (a fresh picture, replacing what the inventory had), then watches from the
listing's resourceVersion; on 410 Gone, a closed watch or a cluster error it lists again
(after a back-off for errors). The inventory counts as synced once both listings have
arrived. The pod loop also feeds the allocations ledger, which writes gpu.allocated /
gpu.released into the outbox.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import eventlet
from nameko.extensions import DependencyProvider

from services.gpu import allocations
from services.gpu.cluster import Cluster
from services.gpu.exceptions import ClusterRefused, ClusterUnavailable, WatchExpired
from services.gpu.inventory import Inventory, PodFacts
from shared.config import database_url
from shared.db import Database

logger = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 10.0


class InventoryFeed:
    """Applies what the watches see to the inventory and the ledger."""

    def __init__(self, inventory: Inventory, database: Database, cluster: Cluster) -> None:
        self.inventory = inventory
        self.database = database
        self.cluster = cluster
        self.nodes_listed = False
        self.pods_listed = False
        self._projects: dict[str, str | None] = {}

    def nodes_loop(self) -> None:
        nodes, version = self.cluster.list_nodes()
        self.inventory.replace_nodes(nodes)
        self.nodes_listed = True
        self._mark_synced()
        logger.debug("listed %d nodes at %s", len(nodes), version)
        for kind, facts in self.cluster.watch_nodes(version):
            if kind == "DELETED":
                self.inventory.remove_node(facts.name)
            else:
                self.inventory.upsert_node(facts)

    def pods_loop(self) -> None:
        pods, version = self.cluster.list_pods()
        self.inventory.replace_pods(pods)
        with self.database.transaction() as session:
            for pod in pods:
                self._observe(session, pod)
            allocations.close_missing(session, {pod.uid for pod in pods})
        self.pods_listed = True
        self._mark_synced()
        for kind, pod in self.cluster.watch_pods(version):
            if kind == "DELETED":
                self.inventory.remove_pod(pod.uid)
                with self.database.transaction() as session:
                    allocations.observe_deleted(session, pod.uid)
                continue
            self.inventory.upsert_pod(pod)
            with self.database.transaction() as session:
                self._observe(session, pod)

    def _observe(self, session: Any, pod: PodFacts) -> None:
        node = self.inventory.nodes.get(pod.node or "")
        product = node.facts.product if node else None
        allocations.observe_pod(session, pod, product, self._project_of(pod.namespace))

    def _project_of(self, namespace: str) -> str | None:
        if namespace not in self._projects:
            self._projects[namespace] = self.cluster.namespace_project(namespace)
        return self._projects[namespace]

    def _mark_synced(self) -> None:
        if self.nodes_listed and self.pods_listed and not self.inventory.synced:
            self.inventory.synced = True
            logger.info("gpu inventory synced: %d GPU nodes", len(self.inventory.nodes))


def run_forever(loop: Callable[[], None], what: str, running: Callable[[], bool]) -> None:
    """Run a list-then-watch loop until stopped, re-listing after every end or failure."""
    backoff = 0.5
    while running():
        try:
            loop()
            backoff = 0.5  # the watch ended on its timeout: list again
        except WatchExpired:
            logger.debug("%s: resourceVersion expired; listing again", what)
            continue
        except (ClusterUnavailable, ClusterRefused) as exc:
            logger.warning("%s failed: %s; retrying in %.1f s", what, exc, backoff)
            eventlet.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
        except Exception:
            logger.exception("%s crashed; retrying in %.1f s", what, backoff)
            eventlet.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)


class InventoryWatcher(DependencyProvider):
    """nameko dependency: the shared Inventory, fed by two managed greenthreads."""

    def __init__(self, service: str = "gpu") -> None:
        self.service = service
        self.inventory = Inventory()
        self._running = False
        self._threads: list[Any] = []

    def setup(self) -> None:
        url = self.container.config.get(f"{self.service.upper()}_DATABASE_URL") or database_url(
            self.service
        )
        self.feed = InventoryFeed(self.inventory, Database(url), Cluster())

    def start(self) -> None:
        self._running = True
        for loop, what in (
            (self.feed.nodes_loop, "node watch"),
            (self.feed.pods_loop, "pod watch"),
        ):
            self._threads.append(
                self.container.spawn_managed_thread(
                    lambda loop=loop, what=what: run_forever(loop, what, self._is_running)
                )
            )

    def _is_running(self) -> bool:
        return self._running

    def stop(self) -> None:
        self._running = False
        for thread in self._threads:
            thread.kill()
        self._threads.clear()

    def kill(self) -> None:
        self.stop()

    def get_dependency(self, worker_ctx: Any) -> Inventory:
        return self.inventory
