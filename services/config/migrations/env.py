"""Alembic environment of the config service (applied by `shared.db.migrate("config")`)."""

from services.config.models import Base
from shared.db import run_alembic_env

run_alembic_env(Base.metadata)
