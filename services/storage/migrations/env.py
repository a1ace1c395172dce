"""Alembic environment of the storage service (applied by `shared.db.migrate("storage")`)."""

from services.storage.models import Base
from shared.db import run_alembic_env

run_alembic_env(Base.metadata)
