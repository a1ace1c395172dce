"""The Alembic scripts build exactly the tables the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from services.auth.models import Base
from shared.db import migrate


def test_migrated_schema_matches_the_models(sqlite_url: str) -> None:
    migrate("auth", sqlite_url)
    engine = create_engine(sqlite_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_migrating_twice_is_harmless(sqlite_url: str) -> None:
    migrate("auth", sqlite_url)
    migrate("auth", sqlite_url)
