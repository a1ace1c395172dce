"""Initial tables: load-balancer pool, LoadBalancer Services, members, isolations, outbox.

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
        "lb_pool",
        sa.Column("address", sa.String(45), primary_key=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("service_key", sa.String(320), nullable=True, unique=True),
        _timestamp("allocated_at", nullable=True),
    )
    op.create_table(
        "lb_services",
        sa.Column("service_key", sa.String(320), primary_key=True),
        sa.Column("uid", sa.String(64), nullable=False),
        sa.Column("project_id", sa.String(64), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(255), nullable=True),
        _timestamp("updated_at"),
    )
    op.create_table(
        "lb_members",
        sa.Column(
            "service_key",
            sa.String(320),
            sa.ForeignKey("lb_services.service_key", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("member", sa.String(45), primary_key=True),
        sa.Column("pod", sa.String(253), nullable=True),
        _timestamp("added_at"),
    )
    op.create_table(
        "network_isolations",
        sa.Column("namespace_uid", sa.String(64), primary_key=True),
        sa.Column("namespace", sa.String(63), nullable=False),
        sa.Column("project_id", sa.String(64), nullable=False),
        _timestamp("created_at"),
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
    op.drop_table("network_isolations")
    op.drop_table("lb_members")
    op.drop_table("lb_services")
    op.drop_table("lb_pool")
