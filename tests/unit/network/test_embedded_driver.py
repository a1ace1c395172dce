"""The embedded SDN driver on a real (SQLite) database; nothing faked."""

from services.network.drivers.embedded import EmbeddedSdnDriver

POOL = ["198.51.100.10", "198.51.100.11"]


def test_allocation_is_idempotent_distinct_and_refuses_when_empty(network_db) -> None:
    driver = EmbeddedSdnDriver()
    with network_db.transaction() as session:
        driver.sync_pool(session, POOL)
        first = driver.allocate(session, "ns/a")
        assert driver.allocate(session, "ns/a") == first
        second = driver.allocate(session, "ns/b")
        assert {first, second} == set(POOL)
        assert driver.allocate(session, "ns/c") is None
        assert driver.pool_state(session) == {
            "size": 2,
            "free": 0,
            "allocated": {first: "ns/a", second: "ns/b"},
        }


def test_release_returns_the_address_once(network_db) -> None:
    driver = EmbeddedSdnDriver()
    with network_db.transaction() as session:
        driver.sync_pool(session, POOL)
        address = driver.allocate(session, "ns/a")
        assert driver.release(session, "ns/a") == address
        assert driver.release(session, "ns/a") is None
        assert driver.allocate(session, "ns/b") == address


def test_sync_pool_keeps_held_addresses_and_drops_free_ones(network_db) -> None:
    driver = EmbeddedSdnDriver()
    with network_db.transaction() as session:
        driver.sync_pool(session, POOL)
        held = driver.allocate(session, "ns/a")
        driver.sync_pool(session, ["203.0.113.1"])
        state = driver.pool_state(session)
        assert state["allocated"] == {held: "ns/a"}
        assert state["size"] == 2  # the held address stays until released
        assert driver.allocate(session, "ns/b") == "203.0.113.1"
