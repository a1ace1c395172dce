"""An in-process suite with the audit and billing services: auth, audit, billing, gateway.

Builds on tests/interface/gateway/conftest.py (same users, projects and roles in `world`);
adds the audit and billing databases. Real: RabbitMQ (a fresh vhost per module), PostgreSQL
(a fresh database per service), the nameko containers and the HTTP server. Nothing is faked.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from nameko.testing.utils import find_free_port

from runner.embedded import embedded_suite
from tests.conftest import DatabaseFactory
from tests.interface.gateway.conftest import (  # noqa: F401 - fixtures used by the tests
    ADMIN,
    Client,
    admin_token,
    amqp_vhost,
    world,
)
from tests.interface.pipeline.support import drop_databases

SERVICES = ["auth", "audit", "billing", "gateway"]


@pytest.fixture(scope="module")
def suite_config(amqp_vhost: str, postgres_admin_url: str) -> Iterator[dict[str, Any]]:  # noqa: F811
    databases = DatabaseFactory(postgres_admin_url)
    config = {
        "AMQP_URI": f"pyamqp://guest:guest@127.0.0.1:5672/{amqp_vhost}",
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{find_free_port()}",
        "AUTH_DATABASE_URL": databases.create(),
        "AUDIT_DATABASE_URL": databases.create(),
        "BILLING_DATABASE_URL": databases.create(),
        "max_workers": 20,
    }
    try:
        yield config
    finally:
        drop_databases(databases)


@pytest.fixture(scope="module")
def client(suite_config: dict[str, Any]) -> Iterator[Client]:
    from services.auth.bootstrap import bootstrap_admin

    with embedded_suite(SERVICES, suite_config):
        bootstrap_admin(suite_config["AUTH_DATABASE_URL"], *ADMIN)
        yield Client(f"http://{suite_config['WEB_SERVER_ADDRESS']}")
