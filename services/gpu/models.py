"""Tables of the gpu service, on its own DeclarativeBase.

- `gpu_allocations`: one row per pod that has held GPUs, written by the pod watch when the pod
  starts and closed when it stops. It makes the gpu.allocated / gpu.released events exactly
  once per pod despite re-listings, restarts and at-least-once watch delivery. (The free-device
  count itself comes from the live pod listing, see inventory.py.)
- `outbox`: events waiting for the relay (shared/events.py, shared/outbox.py).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.events import OutboxMixin


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class GpuAllocation(Base):
    __tablename__ = "gpu_allocations"

    pod_uid: Mapped[str] = mapped_column(String(64), primary_key=True)
    project_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    namespace: Mapped[str] = mapped_column(String(253), nullable=False)
    pod_name: Mapped[str] = mapped_column(String(253), nullable=False)
    node: Mapped[str] = mapped_column(String(253), nullable=False)
    product: Mapped[str | None] = mapped_column(String(128), nullable=True)
    model: Mapped[str | None] = mapped_column(String(64), nullable=True)
    count: Mapped[int] = mapped_column(Integer, nullable=False)
    allocated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=utcnow
    )
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class OutboxEvent(OutboxMixin, Base):
    pass
