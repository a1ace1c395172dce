"""Pipeline fixtures: fresh PostgreSQL databases per service, migrated; a fresh vhost on the
shared broker. Real: RabbitMQ, PostgreSQL, the services' containers and processes. The chaos
test brings its own throwaway broker (chaos_broker.py). Nothing is faked.
"""

from collections.abc import Iterator
from typing import Any

import pytest

from shared import db
from tests.conftest import DatabaseFactory, require_server
from tests.interface.pipeline.support import drop_databases, vhost


@pytest.fixture
def databases(postgres_admin_url: str) -> Iterator[Any]:
    factory = DatabaseFactory(postgres_admin_url)

    def create(service: str | None = None) -> str:
        url = factory.create()
        if service is not None:
            db.migrate(service, url)
        return url

    try:
        yield create
    finally:
        drop_databases(factory)


@pytest.fixture
def amqp_uri() -> Iterator[str]:
    require_server("RabbitMQ management", "127.0.0.1", 15672)
    with vhost() as uri:
        yield uri
