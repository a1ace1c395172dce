"""Fixtures of the workload unit tests: a migrated SQLite file per test (real, not faked).

The cluster and the quota service are faked per test where a test needs them; each test says
what it fakes.
"""

from collections.abc import Iterator

import pytest

from shared import db


@pytest.fixture
def workload_db(sqlite_url: str) -> Iterator[db.Database]:
    db.migrate("workload", sqlite_url)
    yield db.Database(sqlite_url)
    engine = db._engines.pop(sqlite_url, None)
    if engine is not None:
        engine.dispose()
