"""Initial tables: applied events, pod intervals, volume and GPU changes, rates.

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
        "billing_events",
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("event_type", sa.String(128), nullable=False),
        sa.Column("project_id", sa.String(64), nullable=True),
        _timestamp("received_at"),
        sa.Column("deliveries", sa.Integer(), nullable=False, server_default="1"),
    )
    op.create_table(
        "billing_pod_intervals",
        sa.Column("project_id", sa.String(64), primary_key=True),
        sa.Column("pod_key", sa.String(512), primary_key=True),
        sa.Column("namespace", sa.String(253), nullable=True),
        sa.Column("name", sa.String(253), nullable=False),
        sa.Column("node", sa.String(253), nullable=True),
        sa.Column("cpu_millicores", sa.BigInteger(), nullable=False),
        sa.Column("overhead_cpu_millicores", sa.BigInteger(), nullable=False),
        sa.Column("memory_bytes", sa.BigInteger(), nullable=False),
        sa.Column("overhead_memory_bytes", sa.BigInteger(), nullable=False),
        sa.Column("gpu_count", sa.Integer(), nullable=False),
        sa.Column("gpu_model", sa.String(253), nullable=True),
        _timestamp("started_at", nullable=True),
        _timestamp("stopped_at", nullable=True),
    )
    op.create_index(
        "ix_billing_pod_intervals_project", "billing_pod_intervals", ["project_id", "started_at"]
    )
    op.create_table(
        "billing_volume_changes",
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.Column("volume_key", sa.String(512), nullable=False),
        sa.Column("storage_class", sa.String(253), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        _timestamp("at"),
    )
    op.create_index(
        "ix_billing_volume_changes_project",
        "billing_volume_changes",
        ["project_id", "volume_key"],
    )
    op.create_table(
        "billing_gpu_changes",
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.Column("allocation_key", sa.String(512), nullable=False),
        sa.Column("model", sa.String(253), nullable=False),
        sa.Column("node", sa.String(253), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        _timestamp("at"),
    )
    op.create_index(
        "ix_billing_gpu_changes_project", "billing_gpu_changes", ["project_id", "allocation_key"]
    )
    op.create_table(
        "billing_rates",
        sa.Column("metric", sa.String(512), primary_key=True),
        sa.Column("price", sa.Numeric(24, 12), nullable=False),
        _timestamp("updated_at"),
    )


def downgrade() -> None:
    for table in (
        "billing_rates",
        "billing_gpu_changes",
        "billing_volume_changes",
        "billing_pod_intervals",
        "billing_events",
    ):
        op.drop_table(table)
