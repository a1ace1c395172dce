"""Alembic environment of the quota service (applied by `shared.db.migrate("quota")`)."""

from services.quota.models import Base
from shared.db import run_alembic_env

run_alembic_env(Base.metadata)
