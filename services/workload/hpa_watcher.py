"""The HPA watcher: one watch over the platform's HorizontalPodAutoscalers, all namespaces.

When an HPA's desired replica count differs from the count last announced for its workload,
the watcher records the new count and a `workload.scaled` event (from, to, reason "hpa", the
metric values that drove it, time) in one transaction. The comparison happens inside that
transaction, so replays after a restart or a re-list announce nothing twice.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from nameko.extensions import DependencyProvider
from sqlalchemy import select

from services.workload import records
from services.workload.cluster import Cluster
from services.workload.models import Workload
from services.workload.tenancy import MANAGED_LABEL
from services.workload.watching import WatchLoop
from shared.config import database_url
from shared.db import Database
from shared.events import SYSTEM_ACTOR

logger = logging.getLogger(__name__)

WATCH_NAME = "hpa"


def metric_values(hpa: dict[str, Any]) -> list[dict[str, Any]]:
    """[{name, current, target, unit}] from the HPA's current metrics and its targets."""
    targets = {}
    for metric in (hpa.get("spec") or {}).get("metrics") or []:
        resource = metric.get("resource") or {}
        target = resource.get("target") or {}
        targets[resource.get("name")] = target.get("averageUtilization")
    values = []
    for metric in (hpa.get("status") or {}).get("currentMetrics") or []:
        resource = metric.get("resource") or {}
        current = resource.get("current") or {}
        name = resource.get("name")
        values.append(
            {
                "name": name,
                "current": current.get("averageUtilization"),
                "current_value": current.get("averageValue"),
                "target": targets.get(name),
                "unit": "percent",
            }
        )
    return values


def handle_hpa(database: Database, event_type: str, hpa: dict[str, Any]) -> dict | None:
    """Record and announce a change of desired replicas; returns the event, if any."""
    if event_type == "DELETED":
        return None
    status = hpa.get("status") or {}
    desired = status.get("desiredReplicas")
    target = (hpa.get("spec") or {}).get("scaleTargetRef") or {}
    namespace = hpa["metadata"].get("namespace")
    # An HPA reports desiredReplicas 0 until its first computation; it never means "scale to 0".
    if not desired or not target.get("name"):
        return None
    with database.transaction() as session:
        row = session.scalars(
            select(Workload).where(
                Workload.namespace == namespace, Workload.name == target["name"]
            )
        ).first()
        if row is None or row.stopped:
            return None
        previous = row.hpa_replicas if row.hpa_replicas is not None else row.replicas
        if previous == desired:
            row.hpa_replicas = desired
            return None
        row.hpa_replicas, row.replicas = desired, desired
        records.touch(row)
        at = status.get("lastScaleTime") or datetime.now(UTC).isoformat()
        data = {
            "from": previous,
            "to": desired,
            "reason": "hpa",
            "metrics": metric_values(hpa),
            "at": at,
            "current_replicas": status.get("currentReplicas"),
        }
        envelope = records.emit(session, "workload.scaled", row, SYSTEM_ACTOR, data)
    logger.info(
        "HPA scaled %s %s/%s from %s to %s", row.kind, namespace, row.name, previous, desired
    )
    return envelope


class HpaWatcher(DependencyProvider):
    """Runs the HPA watch in a greenthread managed by the service container."""

    def setup(self) -> None:
        url = self.container.config.get("WORKLOAD_DATABASE_URL") or database_url("workload")
        self.database = Database(url)
        self.cluster = Cluster()
        self.loop = WatchLoop(
            WATCH_NAME,
            "HorizontalPodAutoscaler",
            f"{MANAGED_LABEL}=true",
            self.cluster,
            self.database,
            self._handle,
        )

    def _handle(self, event_type: str, hpa: dict[str, Any]) -> None:
        handle_hpa(self.database, event_type, hpa)

    def start(self) -> None:
        self.container.spawn_managed_thread(self.loop.run)

    def stop(self) -> None:
        self.loop.running = False
        self.cluster.close()

    def kill(self) -> None:
        self.stop()

    def get_dependency(self, worker_ctx: Any) -> WatchLoop:
        return self.loop
