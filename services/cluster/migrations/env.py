"""Alembic environment of the cluster service (applied by `shared.db.migrate("cluster")`)."""

from services.cluster.models import Base
from shared.db import run_alembic_env

run_alembic_env(Base.metadata)
