"""Alembic environment of the audit service (applied by `shared.db.migrate("audit")`)."""

from services.audit.models import Base
from shared.db import run_alembic_env

run_alembic_env(Base.metadata)
