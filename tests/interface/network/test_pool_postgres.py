"""The embedded SDN driver under concurrency on the real PostgreSQL (no cluster, no fakes).

20 allocations for 20 Services race for a pool of 16 addresses, each in its own transaction
and greenthread (psycopg2 is green under eventlet): 16 distinct addresses, 4 refusals, no
address held twice. Then the same Service allocated by 10 concurrent callers holds one address.
"""

from __future__ import annotations

from collections.abc import Iterator

import eventlet
import pytest
from sqlalchemy.exc import IntegrityError

from services.network.drivers.embedded import EmbeddedSdnDriver
from services.network.pool import parse_pool
from shared import db

pytestmark = pytest.mark.interface


@pytest.fixture
def database(postgres_url: str) -> Iterator[db.Database]:
    db.migrate("network", postgres_url)
    database = db.Database(postgres_url)
    with database.transaction() as session:
        EmbeddedSdnDriver().sync_pool(session, parse_pool("198.51.100.10-198.51.100.25"))
    yield database


def _allocate(database: db.Database, key: str) -> str | None:
    driver = EmbeddedSdnDriver()
    for _ in range(3):
        try:
            with database.transaction() as session:
                address = driver.allocate(session, key)
                eventlet.sleep(0.01)  # hold the row lock while the others run
                return address
        except IntegrityError:
            continue  # another caller allocated for this key: read it on the next try
    raise AssertionError(f"allocation for {key} kept colliding")


def test_twenty_services_sixteen_addresses(database: db.Database) -> None:
    pool = eventlet.GreenPool(20)
    answers = list(pool.imap(lambda n: _allocate(database, f"ns/svc-{n}"), range(20)))
    addresses = [a for a in answers if a is not None]
    assert len(addresses) == 16 == len(set(addresses))
    assert answers.count(None) == 4
    with database.transaction() as session:
        state = EmbeddedSdnDriver().pool_state(session)
    assert state["free"] == 0 and len(set(state["allocated"].values())) == 16


def test_one_service_many_callers_one_address(database: db.Database) -> None:
    pool = eventlet.GreenPool(10)
    answers = set(pool.imap(lambda _: _allocate(database, "ns/web"), range(10)))
    assert len(answers) == 1 and None not in answers
    with database.transaction() as session:
        assert EmbeddedSdnDriver().pool_state(session)["allocated"] == {answers.pop(): "ns/web"}


def test_a_free_address_locked_by_a_transaction_that_rolls_back_is_not_refused(
    postgres_url: str,
) -> None:
    """The last free address is locked by an allocation that then rolls back: a concurrent
    allocation waits for it and gets the address instead of answering "pool empty"."""
    db.migrate("network", postgres_url)
    database = db.Database(postgres_url)
    driver = EmbeddedSdnDriver()
    with database.transaction() as session:
        driver.sync_pool(session, ["198.51.100.10"])

    class Rollback(Exception):
        pass

    def doomed() -> None:
        try:
            with database.transaction() as session:
                assert driver.allocate(session, "ns/doomed") == "198.51.100.10"
                eventlet.sleep(0.3)  # hold the row lock, then fail
                raise Rollback
        except Rollback:
            pass

    holder = eventlet.spawn(doomed)
    eventlet.sleep(0.05)
    assert _allocate(database, "ns/patient") == "198.51.100.10"
    holder.wait()
