"""Initial tables: workloads, their revisions, watch state, outbox.

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
        "workloads",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("project_id", sa.String(64), nullable=False, index=True),
        sa.Column("namespace", sa.String(63), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("name", sa.String(253), nullable=False),
        sa.Column("uid", sa.String(64), nullable=True),
        sa.Column("replicas", sa.Integer(), nullable=False),
        sa.Column("remembered_replicas", sa.Integer(), nullable=True),
        sa.Column("stopped", sa.Boolean(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("pod_cost", sa.JSON(), nullable=False),
        sa.Column("storage", sa.JSON(), nullable=False),
        sa.Column("quota_grants", sa.JSON(), nullable=False),
        sa.Column("hpa_max", sa.Integer(), nullable=True),
        sa.Column("hpa_replicas", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(255), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.UniqueConstraint("namespace", "name", name="uq_workloads_namespace_name"),
    )
    op.create_table(
        "workload_revisions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "workload_id",
            sa.String(36),
            sa.ForeignKey("workloads.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("template", sa.JSON(), nullable=False),
        sa.Column("change", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        _timestamp("created_at"),
        sa.UniqueConstraint("workload_id", "revision", name="uq_revisions"),
    )
    op.create_table(
        "pod_runs",
        sa.Column("uid", sa.String(64), primary_key=True),
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.Column("namespace", sa.String(63), nullable=False),
        sa.Column("name", sa.String(253), nullable=False),
        _timestamp("started_at", nullable=True),
        _timestamp("stopped_at", nullable=True),
    )
    op.create_table(
        "watch_state",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("resource_version", sa.String(64), nullable=True),
        _timestamp("updated_at"),
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


def downgrade() -> None:
    for table in ("outbox", "watch_state", "pod_runs", "workload_revisions", "workloads"):
        op.drop_table(table)
