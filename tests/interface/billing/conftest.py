"""Billing interface fixtures: a real BillingService container (its pika meter included) on
the real broker (a fresh vhost from nameko's `rabbit_config`) and a fresh, migrated
PostgreSQL database. Nothing is faked.
"""

from collections.abc import Iterator
from typing import Any

import pytest

from shared import db
from shared.config import nameko_config
from tests.conftest import DatabaseFactory
from tests.interface.pipeline.support import drop_databases


@pytest.fixture
def billing_database_url(postgres_admin_url: str) -> Iterator[str]:
    factory = DatabaseFactory(postgres_admin_url)
    url = factory.create()
    try:
        db.migrate("billing", url)
        yield url
    finally:
        drop_databases(factory)


@pytest.fixture
def billing_config(rabbit_config: dict[str, Any], billing_database_url: str) -> dict[str, Any]:
    return {**nameko_config(), **rabbit_config, "BILLING_DATABASE_URL": billing_database_url}
