"""An in-process suite with the audit and billing services: auth, audit, billing, gateway.

Builds on tests/interface/gateway/conftest.py (same users, projects and roles in `world`);
adds the audit and billing databases. Real: RabbitMQ (a fresh vhost per module), PostgreSQL
(a fresh database per service), the nameko containers and the HTTP server. Nothing is faked.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.interface.gateway.conftest import (  # noqa: F401 - fixtures used by the tests
    ADMIN,
    Client,
    admin_token,
    amqp_vhost,
    running_suite,
    suite_config_of,
    world,
)

SERVICES = ["auth", "audit", "billing", "gateway"]


@pytest.fixture(scope="module")
def suite_config(amqp_vhost: str, postgres_admin_url: str) -> Iterator[dict[str, Any]]:  # noqa: F811
    with suite_config_of(amqp_vhost, postgres_admin_url, SERVICES) as config:
        yield config


@pytest.fixture(scope="module")
def client(suite_config: dict[str, Any]) -> Iterator[Client]:
    with running_suite(SERVICES, suite_config) as client:
        yield client
