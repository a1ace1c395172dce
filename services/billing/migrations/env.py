"""Alembic environment of the billing service (applied by `shared.db.migrate("billing")`)."""

from services.billing.models import Base
from shared.db import run_alembic_env

run_alembic_env(Base.metadata)
