"""The workload service's own records: workload rows, revisions and their events.

Every state change and its event are written in one transaction (the outbox), so an event is
published if and only if the change was recorded.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.workload.exceptions import WorkloadNotFound
from services.workload.models import OutboxEvent, Workload, WorkloadRevision
from shared.events import new_event, record_event


def find(session: Session, project_id: str, namespace: str, name: str) -> Workload:
    row = session.scalars(
        select(Workload).where(Workload.namespace == namespace, Workload.name == name)
    ).first()
    if row is None or row.project_id != project_id:
        raise WorkloadNotFound(
            f"no workload {name} in namespace {namespace}",
            {"namespace": namespace, "name": name},
        )
    return row


def find_in_namespace(session: Session, namespace: str, name: str) -> Workload:
    row = session.scalars(
        select(Workload).where(Workload.namespace == namespace, Workload.name == name)
    ).first()
    if row is None:
        raise WorkloadNotFound(
            f"no workload {name} in namespace {namespace}", {"namespace": namespace, "name": name}
        )
    return row


def by_request(session: Session, request_id: str) -> list[Workload]:
    return list(session.scalars(select(Workload).where(Workload.request_id == request_id)))


def exists(session: Session, namespace: str, name: str) -> bool:
    query = select(Workload.id).where(Workload.namespace == namespace, Workload.name == name)
    return session.scalars(query).first() is not None


def list_rows(session: Session, project_id: str, namespace: str | None) -> list[Workload]:
    query = select(Workload).where(Workload.project_id == project_id)
    if namespace:
        query = query.where(Workload.namespace == namespace)
    return list(session.scalars(query.order_by(Workload.namespace, Workload.name)))


def add_revision(
    session: Session, row: Workload, template: dict[str, Any], change: str, actor: str
) -> None:
    session.add(
        WorkloadRevision(
            workload_id=row.id,
            revision=row.revision,
            template=template,
            change=change,
            actor=actor,
            created_at=datetime.now(UTC),
        )
    )


def revisions(session: Session, row: Workload) -> list[WorkloadRevision]:
    query = (
        select(WorkloadRevision)
        .where(WorkloadRevision.workload_id == row.id)
        .order_by(WorkloadRevision.revision)
    )
    return list(session.scalars(query))


def emit(
    session: Session, event_type: str, row: Workload, actor: str, data: dict[str, Any]
) -> dict[str, Any]:
    envelope = new_event(
        event_type,
        actor=actor,
        project=row.project_id,
        resource=resource_of(row),
        data={"kind": row.kind, "revision": row.revision, **data},
    )
    record_event(session, OutboxEvent, envelope)
    return envelope


def resource_of(row: Workload) -> dict[str, Any]:
    return {"kind": row.kind, "namespace": row.namespace, "name": row.name, "uid": row.uid}


def view(row: Workload) -> dict[str, Any]:
    """A workload record as the RPC answers it."""
    return {
        "id": row.id,
        "project_id": row.project_id,
        "namespace": row.namespace,
        "kind": row.kind,
        "name": row.name,
        "uid": row.uid,
        "replicas": row.replicas,
        "stopped": row.stopped,
        "remembered_replicas": row.remembered_replicas,
        "revision": row.revision,
        "pod_cost": row.pod_cost,
        "quota_pods": sum(int(g["pods"]) for g in row.quota_grants if not g.get("surge")),
        "surge_pods": sum(int(g["pods"]) for g in row.quota_grants if g.get("surge")),
        "autoscaling_max": row.hpa_max,
        "created_by": row.created_by,
        "created_at": row.created_at.isoformat() if row.created_at else None,
        "updated_at": row.updated_at.isoformat() if row.updated_at else None,
    }


def touch(row: Workload) -> None:
    row.updated_at = datetime.now(UTC)
