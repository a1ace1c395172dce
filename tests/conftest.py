"""Test fixtures for the whole suite.

What is real and what is faked:
- unit tests (tests/unit) run a service's entrypoints through nameko's `worker_factory`, which
  replaces every dependency with a mock unless the test passes a real one; they say in each
  test which dependency is faked. Databases in unit tests are real SQLite files in tmp_path.
- interface tests (tests/interface) run real nameko containers against the real RabbitMQ
  (a fresh vhost per test, from nameko's own `rabbit_config` fixture) and the real PostgreSQL
  (a fresh database per test, created and dropped here). Nothing is mocked.
- end-to-end tests (tests/e2e) drive the local Kubernetes control plane (real etcd,
  kube-apiserver, controller-manager, scheduler; nodes simulated by KWOK).

The servers are started by `deploy/local/servers.sh up` (and the cluster by
`make cluster-up`); `.ci/run` does both. When a server is missing, its tests fail under CI
(CI=true) and are skipped with the reason elsewhere.
"""

import eventlet

eventlet.monkey_patch()  # first thing: nameko, kombu and psycopg2 must see green sockets

import os  # noqa: E402
import socket  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from urllib.parse import urlsplit, urlunsplit  # noqa: E402

import pytest  # noqa: E402

POSTGRES_URL = os.environ.get(
    "SCS_TEST_POSTGRES_URL", "postgresql://scs:scs@127.0.0.1:5432/scs_test"
)


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require_server(name: str, host: str, port: int) -> None:
    """Fail under CI, skip elsewhere, when a real server a test needs is not running."""
    if _reachable(host, port):
        return
    message = f"{name} is not reachable on {host}:{port} (run `make servers-up`)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    parts = urlsplit(POSTGRES_URL)
    require_server("PostgreSQL", parts.hostname or "127.0.0.1", parts.port or 5432)
    return POSTGRES_URL


class DatabaseFactory:
    """Creates empty PostgreSQL databases and drops them all on `drop_all`."""

    def __init__(self, admin_url: str) -> None:
        import sqlalchemy

        from shared.db import normalise_url

        self.admin_url = normalise_url(admin_url)
        self.admin = sqlalchemy.create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        self.created: list[tuple[str, str]] = []

    def create(self) -> str:
        name = f"scs_t_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        parts = urlsplit(self.admin_url)
        url = urlunsplit(parts._replace(path=f"/{name}"))
        self.created.append((name, url))
        return url

    def drop_all(self) -> None:
        from shared import db

        for name, url in self.created:
            engine = db._engines.pop(url, None)
            if engine is not None:
                engine.dispose()
            with self.admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.created.clear()
        self.admin.dispose()


@pytest.fixture
def postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database for one test, dropped afterwards."""
    factory = DatabaseFactory(postgres_admin_url)
    try:
        yield factory.create()
    finally:
        factory.drop_all()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'test.sqlite3'}"


@pytest.fixture(autouse=True)
def _broker_required(request) -> None:
    """Interface tests need the real broker; say so clearly when it is absent."""
    if request.node.get_closest_marker("interface"):
        require_server("RabbitMQ", "127.0.0.1", 5672)
