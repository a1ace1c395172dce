"""Tables of the cluster service, on its own DeclarativeBase (no other service reads them).

- `cluster_namespaces`: the namespaces created through the platform, their project and
  setup state (`pending` until every required setup step answered, then `ready`; `deleted`)
  and when `namespace.created` was last announced (a pending namespace is re-announced).
- `cluster_namespace_steps`: which setup step answered for a namespace (one row per step,
  so a redelivered `namespace.setup_done` changes nothing).
- `outbox`: events waiting for the relay (shared/events.py, shared/outbox.py).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.events import OutboxMixin

PENDING = "pending"
READY = "ready"
DELETED = "deleted"


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class ManagedNamespace(Base):
    __tablename__ = "cluster_namespaces"

    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    uid: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=PENDING)
    created_by: Mapped[str] = mapped_column(String(255), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ready_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # When `namespace.created` was last recorded, and how often (re-announced while pending).
    announced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    announcements: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class NamespaceStep(Base):
    __tablename__ = "cluster_namespace_steps"

    namespace: Mapped[str] = mapped_column(
        String(63), ForeignKey("cluster_namespaces.name", ondelete="CASCADE"), primary_key=True
    )
    step: Mapped[str] = mapped_column(String(32), primary_key=True)
    done_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    event_id: Mapped[str | None] = mapped_column(String(36), nullable=True)


class OutboxEvent(OutboxMixin, Base):
    pass
