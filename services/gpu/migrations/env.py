"""Alembic environment of the gpu service (applied by `shared.db.migrate("gpu")`)."""

from services.gpu.models import Base
from shared.db import run_alembic_env

run_alembic_env(Base.metadata)
