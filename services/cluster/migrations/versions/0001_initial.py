"""Initial tables: managed namespaces, their setup steps, outbox.

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
        "cluster_namespaces",
        sa.Column("name", sa.String(63), primary_key=True),
        sa.Column("project_id", sa.String(64), nullable=False, index=True),
        sa.Column("uid", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        _timestamp("created_at"),
        _timestamp("ready_at", nullable=True),
        _timestamp("deleted_at", nullable=True),
    )
    op.create_table(
        "cluster_namespace_steps",
        sa.Column(
            "namespace",
            sa.String(63),
            sa.ForeignKey("cluster_namespaces.name", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("step", sa.String(32), primary_key=True),
        _timestamp("done_at"),
        sa.Column("event_id", sa.String(36), nullable=True),
    )
    op.create_table(
        "outbox",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("event_type", sa.String(128), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        _timestamp("created_at"),
        _timestamp("published_at", nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_table("cluster_namespace_steps")
    op.drop_table("cluster_namespaces")
