"""Fixtures of the quota unit tests: a migrated SQLite file per test (real, not faked)."""

from collections.abc import Iterator

import pytest

from shared import db


@pytest.fixture
def quota_db(sqlite_url: str) -> Iterator[db.Database]:
    db.migrate("quota", sqlite_url)
    yield db.Database(sqlite_url)
    engine = db._engines.pop(sqlite_url, None)
    if engine is not None:
        engine.dispose()
