"""Fixtures of the gpu unit tests: a migrated SQLite file per test (real, not faked)."""

from collections.abc import Iterator

import pytest

from shared import db


@pytest.fixture
def gpu_db(sqlite_url: str) -> Iterator[db.Database]:
    db.migrate("gpu", sqlite_url)
    yield db.Database(sqlite_url)
    engine = db._engines.pop(db.normalise_url(sqlite_url), None)
    if engine is not None:
        engine.dispose()
