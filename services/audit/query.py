"""Tenant-scoped reads of the audit trail: filtered pages and export batches.

Scope is decided by the caller (the gateway, after authorisation) and applied here before
any other filter: `project_id` confines every answer to one project's records; only an
explicit `all_projects=True` (the cloud admin's view) reads across projects, including the
cluster-wide records that belong to no project.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from services.audit.exceptions import InvalidAuditFilter
from services.audit.models import AuditRecord

EXPORT_BATCH = 500


def _scoped(filters: dict[str, Any]) -> Select[Any]:
    query = select(AuditRecord)
    project_id = filters.get("project_id")
    if filters.get("all_projects"):
        if project_id is not None:
            query = query.where(AuditRecord.project_id == project_id)
        elif filters.get("cluster_only"):
            query = query.where(AuditRecord.project_id.is_(None))
    elif project_id is not None:
        query = query.where(AuditRecord.project_id == project_id)
    else:
        raise InvalidAuditFilter(
            "a project is required unless all projects are asked for",
            {"location": "arguments", "fields": {"project_id": ["required"]}},
        )
    return _filtered(query, filters)


def _filtered(query: Select[Any], filters: dict[str, Any]) -> Select[Any]:
    since: datetime | None = filters.get("since")
    until: datetime | None = filters.get("until")
    if since is not None:
        query = query.where(AuditRecord.occurred_at >= since)
    if until is not None:
        query = query.where(AuditRecord.occurred_at < until)

    exact = {
        "actor": AuditRecord.actor,
        "resource_kind": AuditRecord.resource_kind,
        "resource_name": AuditRecord.resource_name,
        "resource_namespace": AuditRecord.resource_namespace,
        "outcome": AuditRecord.outcome,
        "request_id": AuditRecord.request_id,
    }
    for name, column in exact.items():
        if filters.get(name) is not None:
            query = query.where(column == filters[name])

    event_type: str | None = filters.get("type")
    if event_type is not None:
        # "workload.*" selects a family; anything else is one exact type.
        if event_type.endswith(".*"):
            query = query.where(AuditRecord.event_type.startswith(event_type[:-1]))
        else:
            query = query.where(AuditRecord.event_type == event_type)
    return query


def to_dict(record: AuditRecord) -> dict[str, Any]:
    return {
        "seq": record.seq,
        "event_id": record.event_id,
        "type": record.event_type,
        "occurred_at": record.occurred_at.isoformat(),
        "recorded_at": record.recorded_at.isoformat(),
        "actor": record.actor,
        "project_id": record.project_id,
        "resource": {
            "kind": record.resource_kind,
            "namespace": record.resource_namespace,
            "name": record.resource_name,
            "uid": record.resource_uid,
        },
        "outcome": record.outcome,
        "source": record.source,
        "request_id": record.request_id,
        "data": record.data,
        "deliveries": record.deliveries,
    }


def search(session: Session, filters: dict[str, Any]) -> dict[str, Any]:
    """A page of records, newest first, with the total that matches the filters."""
    query = _scoped(filters)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(AuditRecord.occurred_at.desc(), AuditRecord.seq.desc())
        .limit(filters["limit"])
        .offset(filters["offset"])
    )
    return {
        "items": [to_dict(row) for row in rows],
        "total": total,
        "limit": filters["limit"],
        "offset": filters["offset"],
    }


def export_batch(session: Session, filters: dict[str, Any], after_seq: int) -> dict[str, Any]:
    """Records after `after_seq` in storage order; `next` is null after the last batch.

    Keyset pagination: an export stays consistent while new records arrive (they land after
    the cursor) and each batch costs one indexed range read.
    """
    limit = min(filters.get("limit") or EXPORT_BATCH, EXPORT_BATCH)
    rows = list(
        session.scalars(
            _scoped(filters)
            .where(AuditRecord.seq > after_seq)
            .order_by(AuditRecord.seq)
            .limit(limit)
        )
    )
    items = [to_dict(row) for row in rows]
    return {"items": items, "next": rows[-1].seq if len(rows) == limit else None}
