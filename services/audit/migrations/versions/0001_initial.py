"""Initial tables: audit records, terminal transcripts and their chunks.

Revision ID: 0001
Revises:
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "audit_records",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("event_type", sa.String(128), nullable=False),
        _timestamp("occurred_at"),
        _timestamp("recorded_at"),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("project_id", sa.String(64), nullable=True),
        sa.Column("resource_kind", sa.String(128), nullable=False),
        sa.Column("resource_namespace", sa.String(253), nullable=True),
        sa.Column("resource_name", sa.String(506), nullable=False),
        sa.Column("resource_uid", sa.String(64), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("source", sa.String(255), nullable=True),
        sa.Column("request_id", sa.String(64), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("deliveries", sa.Integer(), nullable=False, server_default="1"),
    )
    op.create_index(
        "ix_audit_records_project_time", "audit_records", ["project_id", "occurred_at"]
    )
    op.create_index("ix_audit_records_time", "audit_records", ["occurred_at"])
    op.create_index("ix_audit_records_actor", "audit_records", ["actor"])
    op.create_index("ix_audit_records_type", "audit_records", ["event_type"])

    op.create_table(
        "audit_transcripts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.Column("pod", sa.String(253), nullable=False),
        _timestamp("started_at"),
        _timestamp("updated_at"),
        sa.Column("stored_bytes", sa.BigInteger(), nullable=False),
        sa.Column("dropped_bytes", sa.BigInteger(), nullable=False),
        sa.Column("chunks", sa.Integer(), nullable=False),
        sa.Column("truncated", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("session_id", name="uq_audit_transcripts_session"),
    )
    op.create_index("ix_audit_transcripts_project_id", "audit_transcripts", ["project_id"])
    op.create_table(
        "audit_transcript_chunks",
        sa.Column(
            "transcript_id",
            sa.Integer(),
            sa.ForeignKey("audit_transcripts.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("stream_offset", sa.BigInteger(), nullable=True),
        sa.Column("content", sa.Text(), nullable=False),
        _timestamp("received_at"),
    )


def downgrade() -> None:
    op.drop_table("audit_transcript_chunks")
    op.drop_table("audit_transcripts")
    op.drop_table("audit_records")
