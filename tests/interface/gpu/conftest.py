"""Fixtures of the gpu interface tests: a real GpuService container on the real broker (a fresh
vhost from nameko's `rabbit_config`) with a fresh, migrated PostgreSQL database.

The container is pointed at a kubeconfig that does not exist, so its watches retry quietly and
its inventory stays unlisted: the tests either check that state, or fill the container's own
inventory object with node and pod facts (as the watches would) to check decisions and typed
errors over real AMQP RPC. The cluster itself is exercised in tests/e2e/gpu.
"""

from collections.abc import Iterator
from typing import Any

import pytest

from services.gpu.inventory import Inventory
from services.gpu.service import GpuService
from services.gpu.watcher import InventoryWatcher
from shared import db
from shared.config import nameko_config
from tests.conftest import DatabaseFactory


@pytest.fixture
def gpu_database_url(postgres_admin_url: str) -> Iterator[str]:
    factory = DatabaseFactory(postgres_admin_url)
    url = factory.create()
    try:
        db.migrate("gpu", url)
        yield url
    finally:
        factory.drop_all()


@pytest.fixture
def gpu_container(
    container_factory: Any,
    rabbit_config: dict[str, Any],
    gpu_database_url: str,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Any]:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-such-kubeconfig"))
    config = {**nameko_config(), **rabbit_config, "GPU_DATABASE_URL": gpu_database_url}
    container = container_factory(GpuService, config)
    container.start()
    yield container
    container.stop()


def container_inventory(container: Any) -> Inventory:
    """The inventory object the running container's watches would feed."""
    watcher = next(e for e in container.extensions if isinstance(e, InventoryWatcher))
    return watcher.inventory
