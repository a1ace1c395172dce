"""Alembic environment of the network service (applied by `shared.db.migrate("network")`)."""

from services.network.models import Base
from shared.db import run_alembic_env

run_alembic_env(Base.metadata)
