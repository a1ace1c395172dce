"""QuotaService entrypoints through nameko's worker_factory.

Real: the database (a migrated SQLite file) and the request context. Faked: the outbox relay
(a MagicMock from worker_factory; it only publishes in the background, so nothing here needs
it) and the broker (entrypoints are called as plain methods).
"""

from datetime import datetime

import pytest
from nameko.testing.services import worker_factory
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.quota import ledger
from services.quota.exceptions import (
    QuotaExceeded,
    ReservationConflict,
    ReservationNotActive,
    ReservationNotFound,
    UnknownResource,
)
from services.quota.models import OutboxEvent
from services.quota.service import QuotaService
from shared.context import Context
from shared.errors import ValidationFailed

CPU = {"cpu": {"requested": 500, "overhead": 250}}


@pytest.fixture
def service(quota_db):
    return worker_factory(
        QuotaService, db=quota_db, context=Context({"actor": "u1", "request_id": "r1"})
    )


def test_set_get_limits_and_usage(service):
    answer = service.set_limits("p1", {"cpu": 1000, "count.pods": 10})

    assert answer == {
        "project_id": "p1",
        "limits": {"count.pods": 10, "cpu": 1000},
        "over_limit": [],
    }
    assert service.get_limits("p1") == {"project_id": "p1", "limits": answer["limits"]}
    assert service.usage("p1")["resources"]["cpu"] == {
        "limit": 1000,
        "requested": 0,
        "overhead": 0,
        "used": 0,
        "reserved": 0,
    }


def test_reserve_answers_plain_json(service):
    answer = service.reserve("p1", "k1", CPU, ttl_seconds=30)

    assert answer["status"] == "reserved"
    assert answer["items"] == CPU
    expires_at = datetime.fromisoformat(answer["expires_at"])
    created_at = datetime.fromisoformat(answer["created_at"])
    assert (expires_at - created_at).total_seconds() == 30


def test_default_ttl_comes_from_settings(service, monkeypatch):
    monkeypatch.setenv("SCS_RESERVATION_TTL_SECONDS", "120")

    answer = service.reserve("p1", "k1", CPU)

    expires_at = datetime.fromisoformat(answer["expires_at"])
    created_at = datetime.fromisoformat(answer["created_at"])
    assert (expires_at - created_at).total_seconds() == 120


def test_full_cycle_with_usage(service):
    service.set_limits("p1", {"cpu": 2000})
    service.reserve("p1", "k1", CPU)

    assert service.usage("p1")["resources"]["cpu"]["reserved"] == 750
    assert service.commit("k1")["status"] == "committed"
    assert service.usage("p1")["resources"]["cpu"] == {
        "limit": 2000,
        "requested": 500,
        "overhead": 250,
        "used": 750,
        "reserved": 0,
    }
    assert service.release("k1")["status"] == "released"
    assert service.get_reservation("k1")["status"] == "released"
    assert service.usage("p1")["resources"]["cpu"]["used"] == 0


def test_idempotent_reserve_and_conflict(service):
    first = service.reserve("p1", "k1", CPU)

    assert service.reserve("p1", "k1", CPU) == first
    with pytest.raises(ReservationConflict):
        service.reserve("p1", "k1", {"cpu": {"requested": 1}})


def test_quota_exceeded_carries_details(service):
    service.set_limits("p1", {"gpu": 1})

    with pytest.raises(QuotaExceeded) as caught:
        service.reserve("p1", "k1", {"gpu": {"requested": 2}})

    assert caught.value.to_dict() == {
        "code": "quota_exceeded",
        "message": "quota exceeded: gpu: asked 2, 0 of 1 in use",
        "details": {"gpu": {"limit": 1, "used": 0, "requested": 2, "overhead": 0}},
    }


def test_lowering_a_limit_below_usage_reports_it(service):
    service.reserve("p1", "k1", CPU)

    assert service.set_limits("p1", {"cpu": 100})["over_limit"] == ["cpu"]


def test_commit_of_released_reservation_is_refused(service):
    service.reserve("p1", "k1", CPU)
    service.release("k1")

    with pytest.raises(ReservationNotActive) as caught:
        service.commit("k1")

    assert caught.value.code == "reservation_not_active"


def test_unknown_reservation(service):
    with pytest.raises(ReservationNotFound):
        service.get_reservation("nope")


def test_expire_stale_and_its_timer(service, quota_db):
    service.reserve("p1", "k1", CPU, ttl_seconds=1)
    with quota_db.transaction() as session:
        reservation = session.get(ledger.Reservation, "k1")
        reservation.expires_at = reservation.created_at  # already past

    assert service.usage("p1")["resources"] == {}
    assert service.expire_stale() == 1
    service.reserve("p1", "k2", CPU, ttl_seconds=1)
    with quota_db.transaction() as session:
        session.get(ledger.Reservation, "k2").expires_at = datetime.fromisoformat(
            "2000-01-01T00:00:00+00:00"
        )
    service.expire_stale_periodically()
    assert service.get_reservation("k2")["status"] == "expired"


def test_actor_comes_from_the_context_unless_given(service, quota_db):
    service.set_limits("p1", {"cpu": 1})
    service.set_limits("p1", {"cpu": 2}, "admin")

    with quota_db.transaction() as session:
        actors = [e.payload["actor"] for e in session.scalars(select(OutboxEvent))]
    assert actors == ["u1", "admin"]


@pytest.mark.parametrize(
    "name", ["cpus", "CPU", "storage.", "storage.Fast", "count.", "count.pods!", "network", ""]
)
def test_bad_resource_names_are_refused(service, name):
    with pytest.raises(UnknownResource) as caught:
        service.reserve("p1", "k1", {name: {"requested": 1}})

    assert isinstance(caught.value, ValidationFailed)
    assert caught.value.code == "unknown_resource"
    assert caught.value.details["resources"] == [name]
    with pytest.raises(UnknownResource):
        service.set_limits("p1", {name: 1})


@pytest.mark.parametrize(
    "name", ["cpu", "memory", "gpu", "storage.capacity", "storage.high-performance", "count.pods"]
)
def test_known_resource_names_are_accepted(service, name):
    assert service.set_limits("p1", {name: 5})["limits"] == {name: 5}


@pytest.mark.parametrize(
    "item",
    [
        {"requested": -1},
        {"requested": 1, "overhead": -1},
        {"requested": 1.5},
        {"requested": "1"},
        {"requested": True},
        {"requested": 2**62},
        {"overhead": 1},
        {"requested": 1, "extra": 1},
        "1",
    ],
)
def test_bad_quantities_are_refused(service, item):
    with pytest.raises(ValidationFailed) as caught:
        service.reserve("p1", "k1", {"cpu": item})

    assert caught.value.code == "validation_failed"
    assert "items" in caught.value.details["fields"]


@pytest.mark.parametrize("limits", [{"cpu": -1}, {"cpu": 2**62}, {"cpu": "4"}, {}, [], None])
def test_bad_limits_are_refused(service, limits):
    with pytest.raises(ValidationFailed):
        service.set_limits("p1", limits)


@pytest.mark.parametrize(
    ("project_id", "key", "ttl_seconds"),
    [("", "k", None), ("p 1", "k", None), ("p1", "", None), ("p1", "k", 0), ("p1", "k", 1.5)],
)
def test_bad_reserve_arguments_are_refused(service, project_id, key, ttl_seconds):
    with pytest.raises(ValidationFailed):
        service.reserve(project_id, key, CPU, ttl_seconds=ttl_seconds)


def test_empty_items_are_refused(service):
    with pytest.raises(ValidationFailed):
        service.reserve("p1", "k1", {})


def test_a_racing_insert_is_retried_once(service, monkeypatch):
    real_reserve = ledger.reserve
    calls = []

    def racing(session, **payload):
        calls.append(payload["key"])
        if len(calls) == 1:
            raise IntegrityError("INSERT", {}, Exception("duplicate key"))
        return real_reserve(session, **payload)

    monkeypatch.setattr(ledger, "reserve", racing)

    assert service.reserve("p1", "k1", CPU)["status"] == "reserved"
    assert calls == ["k1", "k1"]


def test_health(service):
    assert service.health() == {"service": "quota", "status": "ok"}
