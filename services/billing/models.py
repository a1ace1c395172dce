"""Tables of the billing service, on its own DeclarativeBase (no other service reads them).

Billing stores facts from the events, never running totals, and derives usage for a period
at query time. Facts carry the times the events carry (a pod's `started_at`/`stopped_at`, a
volume change's `occurred_at`), not the time billing received them, so a meter that was down
or received events out of order still charges every second exactly once.

- `billing_events`: the id of every event applied (primary key): a redelivery finds it and
  changes nothing.
- `billing_pod_intervals`: one row per pod (its uid), with requested resources, Kata
  overhead, GPUs and the interval it ran.
- `billing_volume_changes`: size of a volume from a moment on (0 once deleted).
- `billing_gpu_changes`: devices of a GPU allocation from a moment on (0 once released).
- `billing_rates`: the price of one unit of each metered quantity.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Index,
    Integer,
    Numeric,
    String,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ID_LENGTH = 64
KEY_LENGTH = 512
NAME_LENGTH = 253


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every database (stored naive UTC on SQLite)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not accepted; use UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        return value.astimezone(UTC)  # type: ignore[no-any-return]


class Base(DeclarativeBase):
    pass


class AppliedEvent(Base):
    __tablename__ = "billing_events"

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(128), nullable=False)
    project_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), nullable=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False, default=utcnow)
    # How often the bus delivered this event (at-least-once: more than 1 is a duplicate).
    deliveries: Mapped[int] = mapped_column(Integer, nullable=False, default=1)


class PodInterval(Base):
    __tablename__ = "billing_pod_intervals"
    __table_args__ = (Index("ix_billing_pod_intervals_project", "project_id", "started_at"),)

    project_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    pod_key: Mapped[str] = mapped_column(String(KEY_LENGTH), primary_key=True)
    namespace: Mapped[str | None] = mapped_column(String(NAME_LENGTH), nullable=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), nullable=False)
    node: Mapped[str | None] = mapped_column(String(NAME_LENGTH), nullable=True)
    cpu_millicores: Mapped[int] = mapped_column(BigInteger, nullable=False)
    overhead_cpu_millicores: Mapped[int] = mapped_column(BigInteger, nullable=False)
    memory_bytes: Mapped[int] = mapped_column(BigInteger, nullable=False)
    overhead_memory_bytes: Mapped[int] = mapped_column(BigInteger, nullable=False)
    gpu_count: Mapped[int] = mapped_column(Integer, nullable=False)
    gpu_model: Mapped[str | None] = mapped_column(String(NAME_LENGTH), nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    stopped_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class VolumeChange(Base):
    __tablename__ = "billing_volume_changes"
    __table_args__ = (Index("ix_billing_volume_changes_project", "project_id", "volume_key"),)

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(ID_LENGTH), nullable=False)
    volume_key: Mapped[str] = mapped_column(String(KEY_LENGTH), nullable=False)
    storage_class: Mapped[str] = mapped_column(String(NAME_LENGTH), nullable=False)
    size_bytes: Mapped[int] = mapped_column(BigInteger, nullable=False)
    at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class GpuChange(Base):
    __tablename__ = "billing_gpu_changes"
    __table_args__ = (Index("ix_billing_gpu_changes_project", "project_id", "allocation_key"),)

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(ID_LENGTH), nullable=False)
    allocation_key: Mapped[str] = mapped_column(String(KEY_LENGTH), nullable=False)
    model: Mapped[str] = mapped_column(String(NAME_LENGTH), nullable=False)
    node: Mapped[str | None] = mapped_column(String(NAME_LENGTH), nullable=True)
    count: Mapped[int] = mapped_column(Integer, nullable=False)
    at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class Rate(Base):
    """Price of one unit of a metered quantity, e.g. `cpu_core_seconds` or
    `gpu_seconds.tesla-t4` or `storage_gib_seconds.capacity`."""

    __tablename__ = "billing_rates"

    metric: Mapped[str] = mapped_column(String(KEY_LENGTH), primary_key=True)
    price: Mapped[Any] = mapped_column(Numeric(24, 12), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False, default=utcnow)
