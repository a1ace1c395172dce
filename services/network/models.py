"""Tables of the network service (its own database; no other service reads them).

- `lb_pool`: every address of the load-balancer pool; `service_key` ("namespace/name") is set
  while a Service holds the address. It is UNIQUE, so one Service never holds two addresses,
  and the address is the primary key, so one address is never held twice.
- `lb_services`: what the controller knows of each LoadBalancer Service: its uid, project,
  state (`allocated` or `pending`) and the reason when pending; a refusal is announced once.
- `lb_members`: the ready endpoints of each allocated Service (the embedded SDN's backends).
- `network_isolations`: namespaces (by uid) whose isolation NetworkPolicy was installed.
- `outbox`: events waiting for the relay.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.events import OutboxMixin

KEY_LENGTH = 320  # "<namespace>/<name>": 63 + 1 + 253
ADDRESS_LENGTH = 45

ALLOCATED = "allocated"
PENDING = "pending"


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class PoolAddress(Base):
    __tablename__ = "lb_pool"

    address: Mapped[str] = mapped_column(String(ADDRESS_LENGTH), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    service_key: Mapped[str | None] = mapped_column(String(KEY_LENGTH), unique=True)
    allocated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LbService(Base):
    __tablename__ = "lb_services"

    service_key: Mapped[str] = mapped_column(String(KEY_LENGTH), primary_key=True)
    uid: Mapped[str] = mapped_column(String(64), nullable=False)
    project_id: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    reason: Mapped[str | None] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=utcnow
    )


class LbMember(Base):
    __tablename__ = "lb_members"

    service_key: Mapped[str] = mapped_column(
        String(KEY_LENGTH),
        ForeignKey("lb_services.service_key", ondelete="CASCADE"),
        primary_key=True,
    )
    member: Mapped[str] = mapped_column(String(ADDRESS_LENGTH), primary_key=True)
    pod: Mapped[str | None] = mapped_column(String(253))
    added_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=utcnow
    )


class NetworkIsolation(Base):
    __tablename__ = "network_isolations"

    namespace_uid: Mapped[str] = mapped_column(String(64), primary_key=True)
    namespace: Mapped[str] = mapped_column(String(63), nullable=False)
    project_id: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=utcnow
    )


class OutboxEvent(OutboxMixin, Base):
    __table_args__ = (
        Index(
            "ix_outbox_unpublished",
            "seq",
            postgresql_where=text("published_at IS NULL"),
            sqlite_where=text("published_at IS NULL"),
        ),
    )
