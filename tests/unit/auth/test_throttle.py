"""Login throttling: the policy, the lock, its answer, its events and the pruning of rows.

Real: a migrated SQLite database per test and argon2. Faked: the clock of the service
(`services.auth.service.utcnow` is patched to move time on) and, where a test says so, the
password checks (wrapped to count calls, never to change their answer).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from nameko.testing.services import worker_factory
from sqlalchemy import func, select

from services.auth import passwords, throttle
from services.auth import service as service_module
from services.auth.exceptions import InvalidCredentials, TooManyAttempts
from services.auth.models import LoginAttempt, utcnow
from services.auth.service import AuthService
from services.auth.throttle import Policy
from shared.context import Context
from shared.db import Database

from .conftest import ACTOR

PASSWORD = "correct horse battery"
POLICY = Policy(max_failures=3, window_seconds=300, lock_seconds=60, max_lock_seconds=150)


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Iterator[Clock]:
    clock = Clock()
    with mock.patch.object(service_module, "utcnow", side_effect=lambda: clock.now):
        yield clock


@pytest.fixture
def auth(database: Database, clock: Clock) -> Any:
    service = worker_factory(
        AuthService, db=database, context=Context({"actor": ACTOR}), login_policy=POLICY
    )
    service.create_user(ACTOR, "alice", PASSWORD)
    return service


def _fail(auth: Any, username: str = "alice", times: int = 1) -> None:
    for _ in range(times):
        with pytest.raises(InvalidCredentials):
            auth.login(username, "wrong password", source="192.0.2.7")


# -- the policy ------------------------------------------------------------------------------


def test_defaults_and_config_over_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Policy.from_config({}) == Policy(5, 300, 60, 900)

    monkeypatch.setenv("SCS_LOGIN_MAX_FAILURES", "7")
    monkeypatch.setenv("SCS_LOGIN_LOCK_SECONDS", "30")
    policy = Policy.from_config({"LOGIN_LOCK_SECONDS": "2"})
    assert (policy.max_failures, policy.lock_seconds) == (7, 2)


@pytest.mark.parametrize(
    "config",
    [
        {"LOGIN_MAX_FAILURES": "many"},
        {"LOGIN_WINDOW_SECONDS": 0},
        {"LOGIN_LOCK_SECONDS": "-5"},
        {"LOGIN_LOCK_SECONDS": 100, "LOGIN_MAX_LOCK_SECONDS": 50},
    ],
)
def test_bad_settings_stop_the_service_at_start(config: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="LOGIN_"):
        Policy.from_config(config)


def test_locks_double_up_to_the_cap() -> None:
    seconds = [POLICY.lock_duration(n).total_seconds() for n in range(4)]
    assert seconds == [60, 120, 150, 150]
    assert POLICY.lock_duration(10**6).total_seconds() == 150


# -- the lock --------------------------------------------------------------------------------


def test_the_limit_locks_even_the_right_password_without_checking_it(
    auth: Any, clock: Clock
) -> None:
    _fail(auth, times=3)

    with (
        mock.patch.object(passwords, "verify_password", wraps=passwords.verify_password) as check,
        pytest.raises(TooManyAttempts) as locked,
    ):
        auth.login("alice", PASSWORD)
    check.assert_not_called()
    assert locked.value.http_status == 429
    assert locked.value.code == "too_many_attempts"
    assert locked.value.details == {"field": "username", "retry_after_seconds": 60}

    clock.advance(45)
    with pytest.raises(TooManyAttempts) as later:
        auth.login("alice", PASSWORD)
    assert later.value.details["retry_after_seconds"] == 15

    clock.advance(15)
    assert auth.login("alice", PASSWORD)["token"].startswith("scs_")


def test_an_unknown_name_gets_the_same_answers_and_costs_no_argon2_while_locked(
    auth: Any,
) -> None:
    _fail(auth, "alice", times=3)
    _fail(auth, "mallory", times=3)

    with mock.patch.object(passwords, "burn_verification") as burn:
        with pytest.raises(TooManyAttempts) as known:
            auth.login("alice", "guess")
        with pytest.raises(TooManyAttempts) as unknown:
            auth.login("mallory", "guess")
    burn.assert_not_called()
    assert known.value.to_dict() == unknown.value.to_dict()


def test_a_success_resets_the_count(auth: Any) -> None:
    _fail(auth, times=2)
    auth.login("alice", PASSWORD)
    _fail(auth, times=2)

    auth.login("alice", PASSWORD)


def test_failures_older_than_the_window_do_not_count(auth: Any, clock: Clock) -> None:
    _fail(auth, times=2)
    clock.advance(301)
    _fail(auth, times=2)

    auth.login("alice", PASSWORD)


def test_each_lock_in_a_row_lasts_twice_as_long_until_a_quiet_spell(
    auth: Any, clock: Clock
) -> None:
    _fail(auth, times=3)
    clock.advance(60)
    _fail(auth, times=3)
    with pytest.raises(TooManyAttempts) as second:
        auth.login("alice", PASSWORD)
    assert second.value.details["retry_after_seconds"] == 120

    # Quiet for a window plus the longest lock: the next lock is the first again.
    clock.advance(POLICY.quiet_after.total_seconds())
    _fail(auth, times=3)
    with pytest.raises(TooManyAttempts) as fresh:
        auth.login("alice", PASSWORD)
    assert fresh.value.details["retry_after_seconds"] == 60


def test_attempts_count_before_their_password_is_checked(database: Database) -> None:
    # Three guesses still being verified hold the limit: the fourth is refused at once.
    now = utcnow()
    with database.transaction() as session:
        attempts = [throttle.begin_attempt(session, "bob", POLICY, now) for _ in range(3)]
    assert [a.failures for a in attempts] == [1, 2, 3]
    assert attempts[-1].locked_until == now + timedelta(seconds=60)

    with pytest.raises(TooManyAttempts), database.transaction() as session:
        throttle.begin_attempt(session, "bob", POLICY, now)


# -- events ----------------------------------------------------------------------------------


def test_failures_and_the_lock_are_events_without_unknown_names(auth: Any, events: Any) -> None:
    _fail(auth, "alice", times=3)
    _fail(auth, "mallory-typed-a-password-here", times=1)
    with pytest.raises(TooManyAttempts):
        auth.login("alice", PASSWORD)

    recorded = [e for e in events() if e["type"].startswith("auth.")]
    types = [e["type"] for e in recorded]
    # A refusal during the lock writes nothing: it would let a caller fill the trail for free.
    assert types == ["auth.login_failed"] * 3 + ["auth.login_locked", "auth.login_failed"]

    alice = auth.get_user(recorded[0]["actor"])
    assert alice["username"] == "alice"
    assert [e["data"]["failures"] for e in recorded[:3]] == [1, 2, 3]
    assert recorded[0]["data"]["source"] == "192.0.2.7"
    assert recorded[0]["data"]["reason"] == "invalid_credentials"
    locked = recorded[3]
    assert locked["resource"]["name"] == "alice" and locked["resource"]["uid"] == alice["id"]
    assert locked["data"]["lock_seconds"] == 60 and locked["data"]["locked_until"]

    unknown = recorded[4]
    assert unknown["actor"] == "anonymous"
    assert unknown["data"]["username"] is None and unknown["data"]["known_user"] is False
    assert "mallory" not in str(unknown)


# -- pruning ---------------------------------------------------------------------------------


def _rows(database: Database) -> int:
    with database.transaction() as session:
        return session.scalar(select(func.count()).select_from(LoginAttempt)) or 0


def test_prune_forgets_quiet_names_only(auth: Any, database: Database, clock: Clock) -> None:
    _fail(auth, "old-name")
    clock.advance(POLICY.quiet_after.total_seconds())
    _fail(auth, "alice", times=3)  # locked now

    with database.transaction() as session:
        assert throttle.prune(session, POLICY, clock.now) == 1
    assert _rows(database) == 1
    with pytest.raises(TooManyAttempts):
        auth.login("alice", PASSWORD)


def test_prune_keeps_at_most_the_cap_and_never_drops_a_lock(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(throttle, "MAX_TRACKED_NAMES", 3)
    now = utcnow()
    with database.transaction() as session:
        for _ in range(3):
            throttle.begin_attempt(session, "locked", POLICY, now)
        for index in range(5):
            throttle.begin_attempt(session, f"spray-{index}", POLICY, now + timedelta(index))

    with database.transaction() as session:
        assert throttle.prune(session, POLICY, now + timedelta(seconds=10)) == 3
        keys = set(session.scalars(select(LoginAttempt.key)))
    assert keys == {throttle.key_of(name) for name in ("locked", "spray-3", "spray-4")}
