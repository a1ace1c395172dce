"""Tables of the storage service (its own database; no other service reads them).

- `volumes`: one row per claim this service provisions (by claim uid): the backing volume, the
  PV, its class and size, and its state (`refused` when quota said no, `provisioned` once the
  PV exists, `bound`, `deleted`).
- `volume_charges`: every quota reservation taken for a volume (the claim, then each
  expansion), so deletion releases exactly those.
- `outbox`: events waiting for the relay.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, String, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.events import OutboxMixin

REFUSED = "refused"
PROVISIONED = "provisioned"
BOUND = "bound"
DELETED = "deleted"


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Volume(Base):
    __tablename__ = "volumes"

    claim_uid: Mapped[str] = mapped_column(String(64), primary_key=True)
    volume_id: Mapped[str] = mapped_column(String(80), nullable=False, unique=True)
    namespace: Mapped[str] = mapped_column(String(63), nullable=False)
    claim_name: Mapped[str] = mapped_column(String(253), nullable=False)
    project_id: Mapped[str | None] = mapped_column(String(64))
    storage_class: Mapped[str] = mapped_column(String(253), nullable=False)
    size_bytes: Mapped[int] = mapped_column(BigInteger, nullable=False)
    pv_name: Mapped[str | None] = mapped_column(String(253))
    location: Mapped[str | None] = mapped_column(String(1024))
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    reason: Mapped[str | None] = mapped_column(String(255))
    refused_size: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=utcnow
    )


class VolumeCharge(Base):
    __tablename__ = "volume_charges"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    claim_uid: Mapped[str] = mapped_column(
        String(64), ForeignKey("volumes.claim_uid", ondelete="CASCADE"), nullable=False
    )
    size_bytes: Mapped[int] = mapped_column(BigInteger, nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False)  # reserved/committed/released


class OutboxEvent(OutboxMixin, Base):
    __table_args__ = (
        Index(
            "ix_outbox_unpublished",
            "seq",
            postgresql_where=text("published_at IS NULL"),
            sqlite_where=text("published_at IS NULL"),
        ),
    )
