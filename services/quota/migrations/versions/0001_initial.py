"""Initial tables: projects, limits, committed usage, reservations and their items, outbox.

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
        "quota_projects",
        sa.Column("project_id", sa.String(64), primary_key=True),
        _timestamp("created_at"),
    )
    op.create_table(
        "quota_limits",
        sa.Column(
            "project_id",
            sa.String(64),
            sa.ForeignKey("quota_projects.project_id"),
            primary_key=True,
        ),
        sa.Column("resource", sa.String(128), primary_key=True),
        sa.Column("limit_value", sa.BigInteger(), nullable=False),
        _timestamp("updated_at"),
        sa.Column("updated_by", sa.String(255), nullable=False),
    )
    op.create_table(
        "quota_usage",
        sa.Column(
            "project_id",
            sa.String(64),
            sa.ForeignKey("quota_projects.project_id"),
            primary_key=True,
        ),
        sa.Column("resource", sa.String(128), primary_key=True),
        sa.Column("requested", sa.BigInteger(), nullable=False),
        sa.Column("overhead", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "quota_reservations",
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column(
            "project_id",
            sa.String(64),
            sa.ForeignKey("quota_projects.project_id"),
            nullable=False,
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        _timestamp("created_at"),
        _timestamp("expires_at", nullable=True),
        _timestamp("committed_at", nullable=True),
        _timestamp("ended_at", nullable=True),
    )
    op.create_index(
        "ix_quota_reservations_project_status", "quota_reservations", ["project_id", "status"]
    )
    op.create_index(
        "ix_quota_reservations_status_expires", "quota_reservations", ["status", "expires_at"]
    )
    op.create_table(
        "quota_reservation_items",
        sa.Column(
            "reservation_key",
            sa.String(255),
            sa.ForeignKey("quota_reservations.key", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("resource", sa.String(128), primary_key=True),
        sa.Column("requested", sa.BigInteger(), nullable=False),
        sa.Column("overhead", sa.BigInteger(), nullable=False),
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
    op.drop_table("quota_reservation_items")
    op.drop_index("ix_quota_reservations_status_expires", "quota_reservations")
    op.drop_index("ix_quota_reservations_project_status", "quota_reservations")
    op.drop_table("quota_reservations")
    op.drop_table("quota_usage")
    op.drop_table("quota_limits")
    op.drop_table("quota_projects")
