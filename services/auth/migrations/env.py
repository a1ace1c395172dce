"""Alembic environment of the auth service's database."""

from services.auth.models import Base
from shared.db import run_alembic_env

run_alembic_env(Base.metadata)
