"""Initial tables: volumes, their quota charges, outbox.

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
        "volumes",
        sa.Column("claim_uid", sa.String(64), primary_key=True),
        sa.Column("volume_id", sa.String(80), nullable=False, unique=True),
        sa.Column("namespace", sa.String(63), nullable=False),
        sa.Column("claim_name", sa.String(253), nullable=False),
        sa.Column("project_id", sa.String(64), nullable=True),
        sa.Column("storage_class", sa.String(253), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("pv_name", sa.String(253), nullable=True),
        sa.Column("location", sa.String(1024), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(255), nullable=True),
        sa.Column("refused_size", sa.BigInteger(), nullable=True),
        _timestamp("created_at"),
    )
    op.create_table(
        "volume_charges",
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column(
            "claim_uid",
            sa.String(64),
            sa.ForeignKey("volumes.claim_uid", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
    )
    op.create_table(
        "outbox",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("event_type", sa.String(128), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        _timestamp("created_at"),
        _timestamp("published_at", nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
    )
    op.create_index(
        "ix_outbox_unpublished",
        "outbox",
        ["seq"],
        postgresql_where=sa.text("published_at IS NULL"),
        sqlite_where=sa.text("published_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_unpublished", "outbox")
    op.drop_table("outbox")
    op.drop_table("volume_charges")
    op.drop_table("volumes")
