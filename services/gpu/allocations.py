"""The allocations ledger: gpu.allocated when a GPU pod starts, gpu.released when it stops.

Called by the pod watch (watcher.py) for every change of a pod that asks for GPUs. Each call
is idempotent: a pod's row is opened once (first time it is seen Running on a node) and closed
once (terminated, deleted, or missing from a fresh listing), and each of those writes its event
into the outbox in the same transaction.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.gpu import matrix
from services.gpu.inventory import TERMINATED_PHASES, PodFacts
from services.gpu.models import GpuAllocation, OutboxEvent
from shared.events import SYSTEM_ACTOR, new_event, record_event

logger = logging.getLogger(__name__)

RUNNING = "Running"


def observe_pod(
    session: Session, pod: PodFacts, product: str | None, project_id: str | None
) -> str | None:
    """Record a pod's change; returns "allocated", "released" or None (nothing new)."""
    row = session.get(GpuAllocation, pod.uid)
    if row is None:
        if pod.phase == RUNNING and pod.node and pod.count > 0:
            _open(session, pod, product, project_id)
            return "allocated"
        return None
    if row.released_at is None and pod.phase in TERMINATED_PHASES:
        _close(session, row)
        return "released"
    return None


def observe_deleted(session: Session, uid: str) -> bool:
    """A pod is gone; closes its row if still open. Returns whether it did."""
    row = session.get(GpuAllocation, uid)
    if row is None or row.released_at is not None:
        return False
    _close(session, row)
    return True


def close_missing(session: Session, present: set[str]) -> int:
    """After a fresh listing: close the open rows of pods that no longer exist."""
    open_rows = session.scalars(select(GpuAllocation).where(GpuAllocation.released_at.is_(None)))
    closed = 0
    for row in list(open_rows):
        if row.pod_uid not in present:
            _close(session, row)
            closed += 1
    return closed


def open_allocations(session: Session, project_id: str | None = None) -> list[dict[str, Any]]:
    query = select(GpuAllocation).where(GpuAllocation.released_at.is_(None))
    if project_id is not None:
        query = query.where(GpuAllocation.project_id == project_id)
    return [_view(row) for row in session.scalars(query.order_by(GpuAllocation.allocated_at))]


def _open(session: Session, pod: PodFacts, product: str | None, project_id: str | None) -> None:
    assert pod.node is not None
    model = matrix.model_of(product).model if product else None
    row = GpuAllocation(
        pod_uid=pod.uid,
        project_id=project_id,
        namespace=pod.namespace,
        pod_name=pod.name,
        node=pod.node,
        product=product,
        model=model,
        count=pod.count,
        allocated_at=datetime.now(UTC),
    )
    session.add(row)
    _record(session, "gpu.allocated", row)
    logger.info(
        "gpu allocated: %d x %s on %s to pod %s/%s (project %s)",
        pod.count,
        model,
        pod.node,
        pod.namespace,
        pod.name,
        project_id,
    )


def _close(session: Session, row: GpuAllocation) -> None:
    row.released_at = datetime.now(UTC)
    _record(session, "gpu.released", row)
    logger.info(
        "gpu released: %d x %s on %s by pod %s/%s (project %s)",
        row.count,
        row.model,
        row.node,
        row.namespace,
        row.pod_name,
        row.project_id,
    )


def _record(session: Session, event_type: str, row: GpuAllocation) -> None:
    envelope = new_event(
        event_type,
        actor=SYSTEM_ACTOR,
        project=row.project_id,
        resource={
            "kind": "Pod",
            "namespace": row.namespace,
            "name": row.pod_name,
            "uid": row.pod_uid,
        },
        data={"node": row.node, "model": row.model, "product": row.product, "count": row.count},
    )
    record_event(session, OutboxEvent, envelope)


def _view(row: GpuAllocation) -> dict[str, Any]:
    return {
        "pod": {"namespace": row.namespace, "name": row.pod_name, "uid": row.pod_uid},
        "project_id": row.project_id,
        "node": row.node,
        "model": row.model,
        "product": row.product,
        "count": row.count,
        "allocated_at": row.allocated_at.isoformat(),
    }
