"""Alembic environment of the workload service (applied by `shared.db.migrate("workload")`)."""

from services.workload.models import Base
from shared.db import run_alembic_env

run_alembic_env(Base.metadata)
