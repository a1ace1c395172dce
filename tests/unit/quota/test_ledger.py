"""The ledger on a real SQLite file: limits, usage, and the reservation life cycle.

Nothing is faked; time is moved by passing `now` to the ledger functions.
"""

from datetime import UTC, datetime, timedelta

import eventlet
import pytest
from sqlalchemy import select

from services.quota import ledger
from services.quota.exceptions import (
    QuotaExceeded,
    ReservationConflict,
    ReservationNotActive,
    ReservationNotFound,
)
from services.quota.models import OutboxEvent, QuotaUsage, Reservation
from shared.db import Database
from shared.events import EventEnvelopeSchema

T0 = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
CPU = {"cpu": {"requested": 500, "overhead": 250}}


def call(database: Database, fn, *args, **kwargs):
    with database.transaction() as session:
        return fn(session, *args, **kwargs)


def reserve(database: Database, key: str, items=None, project: str = "p1", **kwargs):
    kwargs.setdefault("actor", "u1")
    kwargs.setdefault("ttl_seconds", 60)
    kwargs.setdefault("now", T0)
    return call(database, ledger.reserve, project, key, items or CPU, **kwargs)


def events(database: Database) -> list[dict]:
    with database.transaction() as session:
        rows = session.scalars(select(OutboxEvent).order_by(OutboxEvent.seq))
        return [row.payload for row in rows]


def test_limits_replace_only_the_given_resources(quota_db):
    call(quota_db, ledger.set_limits, "p1", {"cpu": 1000, "memory": 2**30}, "admin")
    answer = call(quota_db, ledger.set_limits, "p1", {"cpu": 2000}, "admin")

    assert answer == {
        "project_id": "p1",
        "limits": {"cpu": 2000, "memory": 2**30},
        "over_limit": [],
    }
    assert call(quota_db, ledger.get_limits, "p1")["limits"] == {"cpu": 2000, "memory": 2**30}


def test_a_null_limit_removes_it(quota_db):
    call(quota_db, ledger.set_limits, "p1", {"cpu": 1000, "gpu": 2}, "admin")
    call(quota_db, ledger.set_limits, "p1", {"gpu": None}, "admin")

    assert call(quota_db, ledger.get_limits, "p1")["limits"] == {"cpu": 1000}


def test_unknown_project_has_no_limits_and_no_usage(quota_db):
    assert call(quota_db, ledger.get_limits, "nobody") == {"project_id": "nobody", "limits": {}}
    assert call(quota_db, ledger.usage, "nobody") == {"project_id": "nobody", "resources": {}}


def test_a_limit_below_usage_is_accepted_and_reported(quota_db):
    reserve(quota_db, "k1")

    answer = call(quota_db, ledger.set_limits, "p1", {"cpu": 700, "memory": 1}, "admin", now=T0)

    assert answer["over_limit"] == ["cpu"]
    assert answer["limits"] == {"cpu": 700, "memory": 1}


def test_reserve_answers_the_reservation(quota_db):
    answer = reserve(quota_db, "k1", ttl_seconds=30)

    assert answer["key"] == "k1"
    assert answer["project_id"] == "p1"
    assert answer["status"] == "reserved"
    assert answer["items"] == CPU
    assert answer["expires_at"] == T0 + timedelta(seconds=30)


def test_overhead_defaults_to_zero(quota_db):
    answer = reserve(quota_db, "k1", {"gpu": {"requested": 1}})

    assert answer["items"] == {"gpu": {"requested": 1, "overhead": 0}}


def test_usage_shows_overhead_apart_and_reserved_part(quota_db):
    call(quota_db, ledger.set_limits, "p1", {"cpu": 4000, "gpu": 2}, "admin")
    reserve(quota_db, "k1", {"cpu": {"requested": 1000, "overhead": 250}})
    reserve(
        quota_db, "k2", {"cpu": {"requested": 500, "overhead": 250}, "memory": {"requested": 7}}
    )
    call(quota_db, ledger.commit, "k1", "u1", now=T0)

    resources = call(quota_db, ledger.usage, "p1", now=T0)["resources"]

    assert resources["cpu"] == {
        "limit": 4000,
        "requested": 1500,
        "overhead": 500,
        "used": 2000,
        "reserved": 750,
    }
    assert resources["memory"] == {
        "limit": None,
        "requested": 7,
        "overhead": 0,
        "used": 7,
        "reserved": 7,
    }
    assert resources["gpu"] == {
        "limit": 2,
        "requested": 0,
        "overhead": 0,
        "used": 0,
        "reserved": 0,
    }


def test_usage_is_per_project(quota_db):
    reserve(quota_db, "k1", project="p1")
    reserve(quota_db, "k2", project="p2")

    assert call(quota_db, ledger.usage, "p1", now=T0)["resources"]["cpu"]["used"] == 750


def test_same_key_and_items_returns_the_existing_reservation(quota_db):
    first = reserve(quota_db, "k1")
    again = reserve(quota_db, "k1", now=T0 + timedelta(seconds=5))

    assert again == first
    assert call(quota_db, ledger.usage, "p1", now=T0)["resources"]["cpu"]["used"] == 750
    assert [e["type"] for e in events(quota_db)] == ["quota.reserved"]


def test_same_key_returns_the_reservation_in_its_current_state(quota_db):
    reserve(quota_db, "k1")
    call(quota_db, ledger.release, "k1", "u1", now=T0)

    assert reserve(quota_db, "k1")["status"] == "released"


def test_explicit_zero_overhead_is_the_same_items_as_omitted(quota_db):
    reserve(quota_db, "k1", {"gpu": {"requested": 1}})

    assert (
        reserve(quota_db, "k1", {"gpu": {"requested": 1, "overhead": 0}})["status"] == "reserved"
    )


@pytest.mark.parametrize(
    ("items", "project"),
    [
        ({"cpu": {"requested": 501, "overhead": 250}}, "p1"),
        ({"cpu": {"requested": 500, "overhead": 0}}, "p1"),
        ({**CPU, "memory": {"requested": 1, "overhead": 0}}, "p1"),
        (CPU, "p2"),
    ],
)
def test_same_key_with_other_items_or_project_conflicts(quota_db, items, project):
    reserve(quota_db, "k1")

    with pytest.raises(ReservationConflict) as caught:
        reserve(quota_db, "k1", items, project=project)

    assert caught.value.code == "reservation_conflict"
    assert caught.value.details["items"] == CPU


def test_exceeding_a_limit_is_refused_with_details(quota_db):
    call(quota_db, ledger.set_limits, "p1", {"cpu": 1000, "memory": 100}, "admin")
    reserve(quota_db, "k1")  # 750 of 1000 cpu

    with pytest.raises(QuotaExceeded) as caught:
        reserve(
            quota_db,
            "k2",
            {"cpu": {"requested": 200, "overhead": 100}, "memory": {"requested": 100}},
        )

    assert caught.value.code == "quota_exceeded"
    assert caught.value.http_status == 422
    assert caught.value.details == {
        "cpu": {"limit": 1000, "used": 750, "requested": 200, "overhead": 100}
    }
    with pytest.raises(ReservationNotFound):
        call(quota_db, ledger.get_reservation, "k2")


def test_a_reservation_may_fill_a_limit_exactly(quota_db):
    call(quota_db, ledger.set_limits, "p1", {"cpu": 1500}, "admin")
    reserve(quota_db, "k1")
    reserve(quota_db, "k2")

    with pytest.raises(QuotaExceeded):
        reserve(quota_db, "k3", {"cpu": {"requested": 1, "overhead": 0}})


def test_overhead_counts_toward_the_limit(quota_db):
    call(quota_db, ledger.set_limits, "p1", {"cpu": 600}, "admin")

    with pytest.raises(QuotaExceeded) as caught:
        reserve(quota_db, "k1")  # 500 requested + 250 overhead

    assert caught.value.details["cpu"]["used"] == 0


def test_commit_then_commit_again_is_a_no_op(quota_db):
    reserve(quota_db, "k1")

    first = call(quota_db, ledger.commit, "k1", "u1", now=T0)
    again = call(quota_db, ledger.commit, "k1", "u1", now=T0 + timedelta(days=1))

    assert first["status"] == again["status"] == "committed"
    assert first["expires_at"] is None
    assert [e["type"] for e in events(quota_db)] == ["quota.reserved", "quota.committed"]


def test_committed_usage_never_expires(quota_db):
    reserve(quota_db, "k1")
    call(quota_db, ledger.commit, "k1", "u1", now=T0)

    later = T0 + timedelta(days=30)
    assert call(quota_db, ledger.expire_stale, now=later) == 0
    assert call(quota_db, ledger.usage, "p1", now=later)["resources"]["cpu"]["used"] == 750


@pytest.mark.parametrize("ending", ["release", "expire"])
def test_commit_of_an_ended_reservation_is_refused(quota_db, ending):
    reserve(quota_db, "k1")
    if ending == "release":
        call(quota_db, ledger.release, "k1", "u1", now=T0)
    else:
        call(quota_db, ledger.expire_stale, now=T0 + timedelta(seconds=60))

    with pytest.raises(ReservationNotActive) as caught:
        call(quota_db, ledger.commit, "k1", "u1", now=T0 + timedelta(seconds=61))

    assert caught.value.code == "reservation_not_active"
    assert caught.value.http_status == 409


def test_commit_after_expiry_is_refused_before_the_timer_ran(quota_db):
    reserve(quota_db, "k1", ttl_seconds=10)

    with pytest.raises(ReservationNotActive) as caught:
        call(quota_db, ledger.commit, "k1", "u1", now=T0 + timedelta(seconds=10))

    assert caught.value.details == {"key": "k1", "status": "expired"}


@pytest.mark.parametrize("commit_first", [False, True])
def test_release_frees_usage_and_is_idempotent(quota_db, commit_first):
    reserve(quota_db, "k1")
    if commit_first:
        call(quota_db, ledger.commit, "k1", "u1", now=T0)

    first = call(quota_db, ledger.release, "k1", "u1", now=T0)
    again = call(quota_db, ledger.release, "k1", "u1", now=T0)

    assert first["status"] == again["status"] == "released"
    assert call(quota_db, ledger.usage, "p1", now=T0)["resources"] == {}
    released = [e for e in events(quota_db) if e["type"] == "quota.released"]
    assert len(released) == 1
    assert released[0]["data"]["previous_status"] == ("committed" if commit_first else "reserved")


def test_release_makes_room_for_another_reservation(quota_db):
    call(quota_db, ledger.set_limits, "p1", {"cpu": 750}, "admin")
    reserve(quota_db, "k1")
    call(quota_db, ledger.release, "k1", "u1", now=T0)

    assert reserve(quota_db, "k2")["status"] == "reserved"


def test_expired_reservations_stop_counting_before_the_timer_runs(quota_db):
    call(quota_db, ledger.set_limits, "p1", {"cpu": 750}, "admin")
    reserve(quota_db, "k1", ttl_seconds=10)
    later = T0 + timedelta(seconds=10)

    assert call(quota_db, ledger.usage, "p1", now=later)["resources"]["cpu"]["used"] == 0
    assert call(quota_db, ledger.get_reservation, "k1", now=later)["status"] == "expired"
    assert reserve(quota_db, "k2", now=later)["status"] == "reserved"


def test_expire_stale_marks_only_reservations_past_expiry(quota_db):
    reserve(quota_db, "short", ttl_seconds=10)
    reserve(quota_db, "long", ttl_seconds=100)
    reserve(quota_db, "kept", ttl_seconds=10)
    call(quota_db, ledger.commit, "kept", "u1", now=T0)

    assert call(quota_db, ledger.expire_stale, now=T0 + timedelta(seconds=50)) == 1
    assert call(quota_db, ledger.expire_stale, now=T0 + timedelta(seconds=50)) == 0

    with quota_db.transaction() as session:
        statuses = dict(session.execute(select(Reservation.key, Reservation.status)).all())
    assert statuses == {"short": "expired", "long": "reserved", "kept": "committed"}
    assert events(quota_db)[-1]["type"] == "quota.expired"


def test_release_of_an_expired_reservation_changes_nothing(quota_db):
    reserve(quota_db, "k1", ttl_seconds=10)
    call(quota_db, ledger.expire_stale, now=T0 + timedelta(seconds=10))

    answer = call(quota_db, ledger.release, "k1", "u1", now=T0 + timedelta(seconds=11))

    assert answer["status"] == "expired"


def test_unknown_reservation_is_not_found(quota_db):
    for fn in (ledger.commit, ledger.release):
        with pytest.raises(ReservationNotFound):
            call(quota_db, fn, "nope", "u1")
    with pytest.raises(ReservationNotFound) as caught:
        call(quota_db, ledger.get_reservation, "nope")
    assert caught.value.http_status == 404


def test_unlimited_usage_stays_below_the_ceiling(quota_db):
    reserve(quota_db, "k1", {"memory": {"requested": ledger.CEILING}})

    with pytest.raises(QuotaExceeded) as caught:
        reserve(quota_db, "k2", {"memory": {"requested": 1}})

    assert caught.value.details["memory"]["limit"] is None


def test_every_change_records_a_valid_event(quota_db):
    call(quota_db, ledger.set_limits, "p1", {"cpu": 4000}, "admin")
    reserve(quota_db, "k1")
    call(quota_db, ledger.commit, "k1", "u1", now=T0)
    call(quota_db, ledger.release, "k1", "u2", now=T0)

    recorded = events(quota_db)
    for envelope in recorded:
        EventEnvelopeSchema().load(envelope)
    assert [
        (e["type"], e["actor"], e["resource"]["kind"], e["resource"]["name"]) for e in recorded
    ] == [
        ("quota.limits_set", "admin", "ProjectQuota", "p1"),
        ("quota.reserved", "u1", "QuotaReservation", "k1"),
        ("quota.committed", "u1", "QuotaReservation", "k1"),
        ("quota.released", "u2", "QuotaReservation", "k1"),
    ]
    assert all(e["project"] == "p1" for e in recorded)
    assert recorded[1]["data"]["items"] == CPU


def test_committed_usage_rows_match_the_committed_reservations(quota_db):
    reserve(quota_db, "a", {"cpu": {"requested": 100, "overhead": 10}})
    reserve(quota_db, "b", {"cpu": {"requested": 200, "overhead": 20}, "gpu": {"requested": 1}})
    reserve(quota_db, "c", {"cpu": {"requested": 400, "overhead": 40}})
    for key in ("a", "b", "c"):
        call(quota_db, ledger.commit, key, "u1", now=T0)
    call(quota_db, ledger.release, "b", "u1", now=T0)

    with quota_db.transaction() as session:
        rows = {
            row.resource: (row.requested, row.overhead)
            for row in session.scalars(select(QuotaUsage).where(QuotaUsage.project_id == "p1"))
        }
    assert rows == {"cpu": (500, 50), "gpu": (0, 0)}
    resources = call(quota_db, ledger.usage, "p1", now=T0)["resources"]
    assert set(resources) == {"cpu"}
    assert resources["cpu"]["used"] == 550


def test_concurrent_reservations_on_sqlite_never_exceed_a_limit(quota_db, monkeypatch):
    call(quota_db, ledger.set_limits, "p1", {"cpu": 20 * 750}, "admin")
    check_fits = ledger._check_fits

    def slow_check_fits(*args, **kwargs):
        check_fits(*args, **kwargs)
        eventlet.sleep(0.001)  # let the other greenthreads run inside the window

    monkeypatch.setattr(ledger, "_check_fits", slow_check_fits)

    def attempt(index: int) -> str:
        try:
            return reserve(quota_db, f"k{index}")["status"]
        except QuotaExceeded:
            return "refused"

    results = list(eventlet.GreenPool(50).imap(attempt, range(50)))

    assert results.count("reserved") == 20
    assert results.count("refused") == 30
