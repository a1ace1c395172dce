"""QuotaService over real AMQP RPC with PostgreSQL: concurrency, typed errors, events."""

import uuid

import eventlet
import pytest
from kombu import Connection, Consumer, Queue
from nameko.standalone.rpc import ServiceRpcProxy

from services.quota import ledger
from services.quota.exceptions import (
    QuotaExceeded,
    ReservationConflict,
    ReservationNotActive,
    ReservationNotFound,
    UnknownResource,
)
from shared.errors import ValidationFailed
from shared.events import EventEnvelopeSchema
from shared.outbox import event_exchange

pytestmark = pytest.mark.interface

POD = {"cpu": {"requested": 500, "overhead": 250}, "count.pods": {"requested": 1}}


@pytest.fixture(params=[0.0, 0.02], ids=["as-is", "slow-check"])
def check_delay(request, monkeypatch) -> float:
    """Optionally widen the window between reading usage and committing (the container runs
    in this process): without the project lock, "slow-check" lets reservations overlap and
    oversubscribe, so the test proves the lock rather than lucky timing."""
    if request.param:
        check_fits = ledger._check_fits

        def slow_check_fits(*args, **kwargs):
            check_fits(*args, **kwargs)
            eventlet.sleep(request.param)

        monkeypatch.setattr(ledger, "_check_fits", slow_check_fits)
    return request.param


def test_fifty_concurrent_reservations_fill_a_limit_of_twenty_exactly(
    check_delay, quota_container, quota_config
):
    with ServiceRpcProxy("quota", quota_config) as quota:
        quota.set_limits("p1", {"cpu": 20 * 750})

    connected: list[int] = []
    everyone_connected = eventlet.event.Event()
    go = eventlet.event.Event()

    def attempt(index: int):
        # One proxy per greenthread: a proxy is not safe to share between them.
        with ServiceRpcProxy("quota", quota_config, timeout=60) as quota:
            # Connect first and fire together, so the calls really overlap in the service.
            connected.append(index)
            if len(connected) == 50:
                everyone_connected.send()
            go.wait()
            try:
                return quota.reserve("p1", f"pod-{index}", POD)
            except QuotaExceeded as exc:
                return exc

    pool = eventlet.GreenPool(50)
    calls = [pool.spawn(attempt, index) for index in range(50)]
    everyone_connected.wait()
    go.send()
    results = [call.wait() for call in calls]

    reserved = [r for r in results if isinstance(r, dict)]
    refused = [r for r in results if isinstance(r, QuotaExceeded)]
    assert len(reserved) == 20
    assert len(refused) == 30
    assert all(r["status"] == "reserved" for r in reserved)
    for exc in refused:
        assert exc.code == "quota_exceeded"
        assert exc.details == {
            "cpu": {"limit": 15000, "used": 15000, "requested": 500, "overhead": 250}
        }
    with ServiceRpcProxy("quota", quota_config) as quota:
        usage = quota.usage("p1")["resources"]
    assert usage["cpu"] == {
        "limit": 15000,
        "requested": 20 * 500,
        "overhead": 20 * 250,
        "used": 20 * 750,
        "reserved": 20 * 750,
    }
    assert usage["count.pods"]["used"] == 20


def test_concurrent_retries_of_one_key_reserve_once(quota_container, quota_config):
    def attempt(_: int):
        with ServiceRpcProxy("quota", quota_config, timeout=60) as quota:
            return quota.reserve("p1", "same-key", POD)

    results = list(eventlet.GreenPool(10).imap(attempt, range(10)))

    assert all(result == results[0] for result in results)
    with ServiceRpcProxy("quota", quota_config) as quota:
        assert quota.usage("p1")["resources"]["cpu"]["used"] == 750


def test_reservation_life_cycle_and_typed_errors(quota_container, quota_config):
    with ServiceRpcProxy("quota", quota_config) as quota:
        quota.set_limits("p1", {"cpu": 1000})
        reserved = quota.reserve("p1", "k1", POD, "u1", 60)

        assert reserved["status"] == "reserved"
        assert quota.reserve("p1", "k1", POD) == reserved
        with pytest.raises(ReservationConflict):
            quota.reserve("p1", "k1", {"cpu": {"requested": 1}})
        with pytest.raises(QuotaExceeded):
            quota.reserve("p1", "k2", POD)

        assert quota.commit("k1")["status"] == "committed"
        assert quota.commit("k1")["status"] == "committed"
        assert quota.usage("p1")["resources"]["cpu"]["reserved"] == 0
        assert quota.release("k1")["status"] == "released"
        assert quota.release("k1")["status"] == "released"
        with pytest.raises(ReservationNotActive) as caught:
            quota.commit("k1")
        assert caught.value.details == {"key": "k1", "status": "released"}

        with pytest.raises(ReservationNotFound):
            quota.get_reservation("nope")
        with pytest.raises(UnknownResource) as unknown:
            quota.reserve("p1", "k3", {"cpus": {"requested": 1}})
        assert isinstance(unknown.value, ValidationFailed)
        with pytest.raises(ValidationFailed):
            quota.set_limits("p1", {"cpu": -5})
        assert quota.set_limits("p1", {"memory": 2**40})["limits"] == {
            "cpu": 1000,
            "memory": 2**40,
        }


def test_expired_reservations_stop_counting_at_once(quota_container, quota_config):
    with ServiceRpcProxy("quota", quota_config) as quota:
        quota.set_limits("p1", {"cpu": 750})
        quota.reserve("p1", "short", POD, ttl_seconds=1)
        with pytest.raises(QuotaExceeded):
            quota.reserve("p1", "other", POD)

        eventlet.sleep(1.1)

        assert quota.usage("p1")["resources"]["cpu"]["used"] == 0
        assert quota.get_reservation("short")["status"] == "expired"
        assert quota.reserve("p1", "other", POD)["status"] == "reserved"
        assert quota.expire_stale() == 1
        with pytest.raises(ReservationNotActive):
            quota.commit("short")


def test_events_reach_the_bus_with_the_envelope(quota_container, quota_config):
    received: list[dict] = []

    def on_message(body, message):
        received.append(body)
        message.ack()

    with Connection(quota_config["AMQP_URI"]) as connection:
        channel = connection.channel()
        queue = Queue(
            f"quota-test-{uuid.uuid4().hex}",
            exchange=event_exchange(),
            routing_key="quota.#",
            exclusive=True,
            auto_delete=True,
        )
        queue(channel).declare()
        with Consumer(channel, queues=[queue], callbacks=[on_message], accept=["json"]):
            context = {"actor": "user-7", "request_id": "req-1"}
            with ServiceRpcProxy("quota", quota_config, context_data=context) as quota:
                quota.set_limits("p1", {"gpu": 2})
                quota.reserve("p1", "gpu-job", {"gpu": {"requested": 1}})

            with eventlet.Timeout(10):
                while len(received) < 2:
                    connection.drain_events(timeout=5)

    limits_set, reserved = received
    for envelope in received:
        EventEnvelopeSchema().load(envelope)
        assert envelope["actor"] == "user-7"
        assert envelope["project"] == "p1"
        assert envelope["schema_version"] == 1
    assert limits_set["type"] == "quota.limits_set"
    assert limits_set["resource"]["kind"] == "ProjectQuota"
    assert limits_set["data"] == {"limits": {"gpu": 2}, "over_limit": []}
    assert reserved["type"] == "quota.reserved"
    assert reserved["resource"] == {
        "kind": "QuotaReservation",
        "namespace": None,
        "name": "gpu-job",
        "uid": None,
    }
    assert reserved["data"]["items"] == {"gpu": {"requested": 1, "overhead": 0}}
    assert reserved["data"]["status"] == "reserved"
