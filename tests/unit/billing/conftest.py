"""Billing unit fixtures: a real SQLite database in tmp_path, migrated to head. Nothing faked."""

from typing import Any

import pytest

from shared import db


@pytest.fixture
def billing_db(tmp_path: Any) -> Any:
    url = f"sqlite:///{tmp_path / 'billing.sqlite3'}"
    db.migrate("billing", url)
    yield db.Database(url)
    engine = db._engines.pop(url, None)
    if engine is not None:
        engine.dispose()
