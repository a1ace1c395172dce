"""A database per service: engine, transactions, the nameko dependency, and migrations.

Each service owns its database (DESIGN: no service reads another's tables). PostgreSQL is the
production and CI store; a SQLite file is the embedded default. SQLite has a single writer, so
on SQLite every transaction holds a green lock for its database (other greenthreads of the
process wait cooperatively instead of blocking the event loop inside sqlite's busy handler)
and begins with `BEGIN IMMEDIATE` (other processes wait at the file lock).
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from eventlet.semaphore import Semaphore
from nameko.extensions import DependencyProvider
from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker

from shared.config import database_url

logger = logging.getLogger(__name__)

_engines: dict[str, Engine] = {}
_sqlite_locks: dict[str, Semaphore] = {}


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def normalise_url(url: str) -> str:
    """`postgresql://` means psycopg2 here (SQLAlchemy 2.1 would otherwise pick psycopg 3)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix) :]
    return url


def get_engine(url: str) -> Engine:
    """One engine per URL per process."""
    url = normalise_url(url)
    engine = _engines.get(url)
    if engine is not None:
        return engine

    if is_sqlite(url):
        path = make_url(url).database
        if path and path != ":memory:" and not path.startswith("file:"):
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        _make_sqlite_transactional(engine)
        _sqlite_locks[url] = Semaphore(1)
    else:
        engine = create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
    _engines[url] = engine
    return engine


def _make_sqlite_transactional(engine: Engine) -> None:
    # pysqlite's own transaction handling defers BEGIN; take the write lock at the start.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA foreign_keys=ON")
        dbapi_connection.execute("PRAGMA journal_mode=WAL")

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """Transactions on one service's database."""

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        self.engine = get_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._lock = _sqlite_locks.get(self.url)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error."""
        if self._lock is not None:
            self._lock.acquire()
        try:
            with self._sessions() as session, session.begin():
                yield session
        finally:
            if self._lock is not None:
                self._lock.release()


class DatabaseProvider(DependencyProvider):
    """nameko dependency: `self.db.transaction()` in a service's entrypoints."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.database: Database | None = None

    def setup(self) -> None:
        url = self.container.config.get(f"{self.service.upper()}_DATABASE_URL") or database_url(
            self.service
        )
        self.database = Database(url)

    def get_dependency(self, worker_ctx: Any) -> Database:
        assert self.database is not None
        return self.database


def migrate(service: str, url: str | None = None, revision: str = "head") -> None:
    """Bring a service's database to `revision` with its own Alembic scripts."""
    from alembic import command
    from alembic.config import Config

    url = normalise_url(url or database_url(service))
    get_engine(url)  # creates the SQLite folder when needed
    config = Config()
    config.set_main_option("script_location", f"services.{service}:migrations")
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    logger.info("migrating %s to %s", service, revision)
    command.upgrade(config, revision)


def run_alembic_env(target_metadata: Any) -> None:
    """Body of every service's migrations/env.py (online mode only)."""
    from alembic import context

    url = context.config.get_main_option("sqlalchemy.url")
    assert url is not None
    connectable = create_engine(normalise_url(url))
    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=is_sqlite(url),
        )
        with context.begin_transaction():
            context.run_migrations()
    connectable.dispose()


def migrate_main() -> None:
    """`scs-migrate [service ...]`: apply every service's migrations."""
    parser = argparse.ArgumentParser(description="Apply database migrations.")
    parser.add_argument("services", nargs="*", default=list(MIGRATED_SERVICES))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    for service in args.services:
        migrate(service)


# Services that own a database, in the order their migrations apply.
MIGRATED_SERVICES = (
    "auth",
    "quota",
    "gpu",
    "audit",
    "billing",
    "network",
    "storage",
    "cluster",
    "config",
    "workload",
)
