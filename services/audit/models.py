"""Tables of the audit service, on its own DeclarativeBase (no other service reads them).

- `audit_records`: one row per event on the bus, unique on the event id (delivery is
  at-least-once, so a second delivery finds the row and stores nothing). Requests the gateway
  denied arrive as `access.denied` events and are stored here with outcome `denied`.
- `audit_transcripts` and `audit_transcript_chunks`: terminal sessions, stored as audit
  artefacts up to a size cap per session.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ID_LENGTH = 64
NAME_LENGTH = 253
ACTOR_LENGTH = 255
TYPE_LENGTH = 128

SUCCESS = "success"
DENIED = "denied"
OUTCOMES = (SUCCESS, DENIED)


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


class AuditRecord(Base):
    __tablename__ = "audit_records"
    __table_args__ = (
        Index("ix_audit_records_project_time", "project_id", "occurred_at"),
        Index("ix_audit_records_time", "occurred_at"),
        Index("ix_audit_records_actor", "actor"),
        Index("ix_audit_records_type", "event_type"),
    )

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True, nullable=False)
    event_type: Mapped[str] = mapped_column(String(TYPE_LENGTH), nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False, default=utcnow)
    actor: Mapped[str] = mapped_column(String(ACTOR_LENGTH), nullable=False)
    project_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), nullable=True)
    resource_kind: Mapped[str] = mapped_column(String(TYPE_LENGTH), nullable=False)
    resource_namespace: Mapped[str | None] = mapped_column(String(NAME_LENGTH), nullable=True)
    resource_name: Mapped[str] = mapped_column(String(NAME_LENGTH * 2), nullable=False)
    resource_uid: Mapped[str | None] = mapped_column(String(ID_LENGTH), nullable=True)
    outcome: Mapped[str] = mapped_column(String(16), nullable=False)
    source: Mapped[str | None] = mapped_column(String(ACTOR_LENGTH), nullable=True)
    request_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), nullable=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    # How often the bus delivered this event (at-least-once: more than 1 is a duplicate).
    deliveries: Mapped[int] = mapped_column(Integer, nullable=False, default=1)


class Transcript(Base):
    """One terminal session of one pod; `stored_bytes` never exceeds the cap."""

    __tablename__ = "audit_transcripts"
    __table_args__ = (UniqueConstraint("session_id", name="uq_audit_transcripts_session"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(String(ID_LENGTH), nullable=False)
    project_id: Mapped[str] = mapped_column(String(ID_LENGTH), nullable=False, index=True)
    pod: Mapped[str] = mapped_column(String(NAME_LENGTH), nullable=False)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False, default=utcnow)
    stored_bytes: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    dropped_bytes: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    chunks: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    truncated: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class TranscriptChunk(Base):
    __tablename__ = "audit_transcript_chunks"

    transcript_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("audit_transcripts.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Byte offset of this chunk in the session's stream, as the caller numbered it.
    stream_offset: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False, default=utcnow)
