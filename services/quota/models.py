"""Tables of the quota service, on its own DeclarativeBase (no other service reads them).

- `quota_projects`: one row per project seen; reservations and limit changes lock it
  (SELECT ... FOR UPDATE on PostgreSQL) so that a project's usage is checked and changed by one
  transaction at a time.
- `quota_limits`: the limit of one resource of one project; no row means unlimited.
- `quota_reservations` and `quota_reservation_items`: the ledger. Usage is the sum of the items
  of committed reservations and of reserved ones that have not expired.
- `quota_usage`: the committed part of that sum per project and resource, kept by commit and
  release, so a reservation check reads one row per resource plus the (few, short-lived)
  reservations still in flight instead of summing every committed reservation.
- `outbox`: events waiting for the relay (shared/events.py, shared/outbox.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, String, TypeDecorator, text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from shared.events import OutboxMixin

PROJECT_ID_LENGTH = 64
KEY_LENGTH = 255
RESOURCE_LENGTH = 128
ACTOR_LENGTH = 255

RESERVED = "reserved"
COMMITTED = "committed"
RELEASED = "released"
EXPIRED = "expired"
STATUSES = (RESERVED, COMMITTED, RELEASED, EXPIRED)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every database.

    SQLite keeps no time zone, so values are stored as naive UTC there and made aware again
    on the way out; comparisons in SQL stay correct because every stored value is UTC.
    """

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
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class QuotaProject(Base):
    __tablename__ = "quota_projects"

    project_id: Mapped[str] = mapped_column(String(PROJECT_ID_LENGTH), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False, default=utcnow)


class QuotaLimit(Base):
    __tablename__ = "quota_limits"

    project_id: Mapped[str] = mapped_column(
        String(PROJECT_ID_LENGTH), ForeignKey("quota_projects.project_id"), primary_key=True
    )
    resource: Mapped[str] = mapped_column(String(RESOURCE_LENGTH), primary_key=True)
    limit: Mapped[int] = mapped_column("limit_value", BigInteger, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(ACTOR_LENGTH), nullable=False)


class QuotaUsage(Base):
    """Committed usage of one resource of one project (sums of committed reservations)."""

    __tablename__ = "quota_usage"

    project_id: Mapped[str] = mapped_column(
        String(PROJECT_ID_LENGTH), ForeignKey("quota_projects.project_id"), primary_key=True
    )
    resource: Mapped[str] = mapped_column(String(RESOURCE_LENGTH), primary_key=True)
    requested: Mapped[int] = mapped_column(BigInteger, nullable=False)
    overhead: Mapped[int] = mapped_column(BigInteger, nullable=False)


class Reservation(Base):
    __tablename__ = "quota_reservations"
    __table_args__ = (
        Index("ix_quota_reservations_project_status", "project_id", "status"),
        Index("ix_quota_reservations_status_expires", "status", "expires_at"),
    )

    key: Mapped[str] = mapped_column(String(KEY_LENGTH), primary_key=True)
    project_id: Mapped[str] = mapped_column(
        String(PROJECT_ID_LENGTH), ForeignKey("quota_projects.project_id"), nullable=False
    )
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    actor: Mapped[str] = mapped_column(String(ACTOR_LENGTH), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False, default=utcnow)
    # Only a reserved row expires; committing clears it.
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    committed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    items: Mapped[list[ReservationItem]] = relationship(
        back_populates="reservation",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="ReservationItem.resource",
    )


class ReservationItem(Base):
    __tablename__ = "quota_reservation_items"

    reservation_key: Mapped[str] = mapped_column(
        String(KEY_LENGTH),
        ForeignKey("quota_reservations.key", ondelete="CASCADE"),
        primary_key=True,
    )
    resource: Mapped[str] = mapped_column(String(RESOURCE_LENGTH), primary_key=True)
    requested: Mapped[int] = mapped_column(BigInteger, nullable=False)
    overhead: Mapped[int] = mapped_column(BigInteger, nullable=False)

    reservation: Mapped[Reservation] = relationship(back_populates="items")


class OutboxEvent(OutboxMixin, Base):
    # The relay reads unpublished rows oldest first; published rows stay for audit.
    __table_args__ = (
        Index(
            "ix_outbox_unpublished",
            "seq",
            postgresql_where=text("published_at IS NULL"),
            sqlite_where=text("published_at IS NULL"),
        ),
    )
