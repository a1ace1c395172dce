"""Tables of the workload service, on its own DeclarativeBase (no other service reads them).

- `workloads`: one row per workload the platform created: where it is, what one pod costs, the
  desired replica count, the count remembered while stopped, the quota reservations (grants)
  that currently pay for its pods, and the HPA's maxReplicas (the ledger pays for that many
  pods) and the last replica count the HPA watcher announced.
- `workload_revisions`: every pod template the platform applied (create, update, rollback).
- `pod_runs`: pods announced as started, and whether their stop was announced.
- `watch_state`: the last resourceVersion each watcher saw, so a restart resumes there.
- `outbox`: events waiting for the relay (shared/events.py, shared/outbox.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.events import OutboxMixin


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Workload(Base):
    __tablename__ = "workloads"
    __table_args__ = (UniqueConstraint("namespace", "name", name="uq_workloads_namespace_name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    namespace: Mapped[str] = mapped_column(String(63), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    name: Mapped[str] = mapped_column(String(253), nullable=False)
    uid: Mapped[str | None] = mapped_column(String(64), nullable=True)
    replicas: Mapped[int] = mapped_column(Integer, nullable=False)
    remembered_replicas: Mapped[int | None] = mapped_column(Integer, nullable=True)
    stopped: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    revision: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    pod_cost: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    storage: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    # [{"key": reservation key, "pods": how many pods it pays for}]
    quota_grants: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False, default=list)
    hpa_max: Mapped[int | None] = mapped_column(Integer, nullable=True)
    hpa_replicas: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_by: Mapped[str] = mapped_column(String(255), nullable=False)
    # the request that created it: a redelivered create answers instead of failing
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WorkloadRevision(Base):
    __tablename__ = "workload_revisions"
    __table_args__ = (UniqueConstraint("workload_id", "revision", name="uq_revisions"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workload_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("workloads.id", ondelete="CASCADE"), nullable=False, index=True
    )
    revision: Mapped[int] = mapped_column(Integer, nullable=False)
    template: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    change: Mapped[str] = mapped_column(String(64), nullable=False)
    actor: Mapped[str] = mapped_column(String(255), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PodRun(Base):
    """One pod's run as billing sees it: announced started once, stopped once."""

    __tablename__ = "pod_runs"

    uid: Mapped[str] = mapped_column(String(64), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(64), nullable=False)
    namespace: Mapped[str] = mapped_column(String(63), nullable=False)
    name: Mapped[str] = mapped_column(String(253), nullable=False)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    stopped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class WatchState(Base):
    __tablename__ = "watch_state"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    resource_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class OutboxEvent(OutboxMixin, Base):
    pass
