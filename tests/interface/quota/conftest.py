"""Fixtures of the quota interface tests: a real QuotaService container on the real broker
(a fresh vhost from nameko's `rabbit_config`) and a fresh, migrated PostgreSQL database.
Nothing is faked.
"""

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import sqlalchemy

from services.quota.service import QuotaService
from shared import db
from shared.config import nameko_config


def psycopg2_url(url: str) -> str:
    # SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3, which is not installed (and
    # would block eventlet's hub); the suite runs psycopg2, which cooperates with eventlet.
    parts = urlsplit(url)
    if parts.scheme == "postgresql":
        parts = parts._replace(scheme="postgresql+psycopg2")
    return urlunsplit(parts)


@pytest.fixture
def quota_database_url(postgres_admin_url: str) -> Iterator[str]:
    """A new PostgreSQL database migrated to the quota service's head, dropped afterwards."""
    import uuid

    admin_url = psycopg2_url(postgres_admin_url)
    name = f"scs_t_quota_{uuid.uuid4().hex[:10]}"
    admin = sqlalchemy.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))
    try:
        db.migrate("quota", url)
        yield url
    finally:
        engine = db._engines.pop(url, None)
        if engine is not None:
            engine.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def quota_config(rabbit_config: dict[str, Any], quota_database_url: str) -> dict[str, Any]:
    return {**nameko_config(), **rabbit_config, "QUOTA_DATABASE_URL": quota_database_url}


@pytest.fixture
def quota_container(container_factory: Any, quota_config: dict[str, Any]) -> Iterator[Any]:
    container = container_factory(QuotaService, quota_config)
    container.start()
    yield container
    # Stop before the database is dropped, so the relay never sees it vanish.
    container.stop()
