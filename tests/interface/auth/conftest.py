"""Fixtures of the auth interface tests (real RabbitMQ, real PostgreSQL; nothing mocked)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def postgres_admin_url(postgres_admin_url: str) -> str:
    """The suite's PostgreSQL URL with the driver named.

    NB: SQLAlchemy 2.1 reads a bare `postgresql://` as psycopg 3, which is not installed (the
    suite pins psycopg2, which cooperates with eventlet). Can go once the top conftest (or
    shared.db) names the driver itself.
    """
    if postgres_admin_url.startswith("postgresql://"):
        return "postgresql+psycopg2://" + postgres_admin_url[len("postgresql://") :]
    return postgres_admin_url
