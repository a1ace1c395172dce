"""Initial auth schema: users, departments, projects, memberships, API tokens, outbox.

Revision ID: 0001
Revises:
Create Date: 2026-12-04
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("is_cloud_admin", sa.Boolean(), nullable=False),
        _when("created_at"),
        _when("disabled_at", nullable=True),
    )
    op.create_table(
        "departments",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False, unique=True),
        sa.Column("description", sa.Text(), nullable=False),
        _when("created_at"),
    )
    op.create_table(
        "department_admins",
        sa.Column(
            "department_id",
            sa.String(32),
            sa.ForeignKey("departments.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "user_id",
            sa.String(32),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        _when("created_at"),
    )
    op.create_index("ix_department_admins_user_id", "department_admins", ["user_id"])
    op.create_table(
        "projects",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(63), nullable=False, unique=True),
        sa.Column(
            "department_id",
            sa.String(32),
            sa.ForeignKey("departments.id", ondelete="RESTRICT"),
            nullable=False,
        ),
        sa.Column("description", sa.Text(), nullable=False),
        _when("created_at"),
    )
    op.create_index("ix_projects_department_id", "projects", ["department_id"])
    op.create_table(
        "project_members",
        sa.Column(
            "project_id",
            sa.String(32),
            sa.ForeignKey("projects.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "user_id",
            sa.String(32),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("role", sa.String(32), nullable=False),
        _when("created_at"),
    )
    op.create_index("ix_project_members_user_id", "project_members", ["user_id"])
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "user_id", sa.String(32), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        _when("created_at"),
        _when("expires_at"),
        _when("revoked_at", nullable=True),
    )
    op.create_index("ix_api_tokens_token_hash", "api_tokens", ["token_hash"], unique=True)
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"])
    op.create_table(
        "outbox",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("event_type", sa.String(128), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        _when("created_at"),
        _when("published_at", nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_index("ix_api_tokens_user_id", "api_tokens")
    op.drop_index("ix_api_tokens_token_hash", "api_tokens")
    op.drop_table("api_tokens")
    op.drop_index("ix_project_members_user_id", "project_members")
    op.drop_table("project_members")
    op.drop_index("ix_projects_department_id", "projects")
    op.drop_table("projects")
    op.drop_index("ix_department_admins_user_id", "department_admins")
    op.drop_table("department_admins")
    op.drop_table("departments")
    op.drop_table("users")
