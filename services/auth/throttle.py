"""Login throttling: failed logins counted per username, locks that double, quiet rows pruned.

`service.login` calls `begin_attempt` in its first transaction, before any password is
checked. A locked name is refused there with `TooManyAttempts` — no argon2 work, so a lock is
no oracle and costs nothing, and the answer is the same whether the name exists or not (rows
are kept for unknown names too). Each attempt is counted before its password is checked, so
parallel guesses cannot slip past the limit while the first ones are still being verified;
the attempt that reaches the limit locks the name at once. A success deletes the row
(`forget`); a failure records `auth.login_failed`, and `auth.login_locked` when it locked.

Rows are keyed by the SHA-256 of the name as typed: a password typed into the username field
is never stored. Neighbours: models.LoginAttempt is the table; service.py owns the
transactions and prunes quiet rows on a timer (`prune`).
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from nameko.extensions import DependencyProvider
from sqlalchemy import delete, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from services.auth import directory
from services.auth.exceptions import TooManyAttempts
from services.auth.models import LoginAttempt

logger = logging.getLogger(__name__)

ANONYMOUS = "anonymous"
# Rows kept at most; past it, prune drops the oldest unlocked rows (a name spray's, mostly).
MAX_TRACKED_NAMES = 100_000
# A lock never doubles past 2**30 times its base (the cap applies long before).
_MAX_DOUBLINGS = 30


@dataclass(frozen=True)
class Policy:
    """After `max_failures` attempts without a success within `window_seconds`, the name is
    locked for `lock_seconds`, twice that after the next round, up to `max_lock_seconds`."""

    max_failures: int = 5
    window_seconds: int = 300
    lock_seconds: int = 60
    max_lock_seconds: int = 900

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Policy:
        """nameko config `LOGIN_<FIELD>` wins over the environment's `SCS_LOGIN_<FIELD>`."""
        values = {}
        for field in fields(cls):
            key = f"LOGIN_{field.name.upper()}"
            raw = config.get(key)
            if raw is None or raw == "":
                raw = os.environ.get(f"SCS_{key}")
            if raw is None or raw == "":
                continue
            try:
                value = int(raw)
            except (TypeError, ValueError):
                raise ValueError(f"{key} must be an integer, got {raw!r}") from None
            if value < 1:
                raise ValueError(f"{key} must be at least 1, got {value}")
            values[field.name] = value
        policy = cls(**values)
        if policy.max_lock_seconds < policy.lock_seconds:
            raise ValueError("LOGIN_MAX_LOCK_SECONDS must be at least LOGIN_LOCK_SECONDS")
        return policy

    def lock_duration(self, earlier_locks: int) -> timedelta:
        doublings = min(earlier_locks, _MAX_DOUBLINGS)
        return timedelta(seconds=min(self.lock_seconds * 2**doublings, self.max_lock_seconds))

    @property
    def quiet_after(self) -> timedelta:
        """A name with no attempt for this long starts afresh (its row may be pruned): longer
        than any lock plus a window, so a lock is never forgotten early."""
        return timedelta(seconds=self.window_seconds + self.max_lock_seconds)


class LoginPolicy(DependencyProvider):
    """nameko dependency: the `Policy`, read once when the container starts (a bad value
    stops the service at start rather than failing logins)."""

    def setup(self) -> None:
        self.policy = Policy.from_config(self.container.config)

    def get_dependency(self, worker_ctx: Any) -> Policy:
        return self.policy


@dataclass(frozen=True)
class Attempt:
    """One counted attempt: how many in the window so far (this one included), and the end
    of the lock this attempt started, if it reached the limit."""

    key: str
    failures: int
    locked_until: datetime | None = None
    lock_seconds: int = 0


def key_of(username: str) -> str:
    return hashlib.sha256(username.encode("utf-8", "surrogatepass")).hexdigest()


def begin_attempt(session: Session, username: str, policy: Policy, now: datetime) -> Attempt:
    """Count one attempt for `username`; raise TooManyAttempts while the name is locked."""
    key = key_of(username)
    row = _row_for_update(session, key, now)
    if row.locked_until is not None and row.locked_until > now:
        retry_after = max(1, math.ceil((row.locked_until - now).total_seconds()))
        logger.warning("login refused: locked for %d more seconds", retry_after)
        raise TooManyAttempts(
            f"too many failed logins; try again in {retry_after} seconds",
            {"field": "username", "retry_after_seconds": retry_after},
        )

    if row.last_attempt_at + policy.quiet_after <= now:
        row.locks = 0
    window = timedelta(seconds=policy.window_seconds)
    if row.window_started_at is None or row.window_started_at + window <= now:
        row.failures, row.window_started_at = 0, now
    row.failures += 1
    row.last_attempt_at = now
    if row.failures < policy.max_failures:
        return Attempt(key, row.failures)

    # The limit is reached: lock now, before this password is checked; a success unlocks.
    lock = policy.lock_duration(row.locks)
    attempt = Attempt(key, row.failures, now + lock, int(lock.total_seconds()))
    row.locked_until, row.locks = attempt.locked_until, row.locks + 1
    row.failures, row.window_started_at = 0, None
    return attempt


def _row_for_update(session: Session, key: str, now: datetime) -> LoginAttempt:
    query = select(LoginAttempt).where(LoginAttempt.key == key).with_for_update()
    row = session.scalars(query).first()
    if row is not None:
        return row

    # Two first attempts for one name may race: insert unless there, then lock the row.
    insert = (
        postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    )
    session.execute(
        insert(LoginAttempt)
        .values(key=key, failures=0, locks=0, last_attempt_at=now)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    return session.scalars(query).one()


def forget(session: Session, key: str) -> None:
    """A successful login: the name's count and lock history go."""
    session.execute(delete(LoginAttempt).where(LoginAttempt.key == key))


def record_failure(
    session: Session,
    attempt: Attempt,
    policy: Policy,
    *,
    user_id: str | None,
    username: str,
    source: str | None,
) -> None:
    """The events of a refused password: `auth.login_failed`, and `auth.login_locked` when
    this attempt locked the name. An unknown name is not written (it may be a password typed
    in the wrong field)."""
    actor = user_id or ANONYMOUS
    resource = {"kind": "User", "name": username if user_id else "unknown", "uid": user_id}
    data: dict[str, Any] = {
        "username": username if user_id else None,
        "known_user": user_id is not None,
        "failures": attempt.failures,
        "max_failures": policy.max_failures,
        "source": source,
        "reason": "invalid_credentials",
    }
    directory.emit(session, "auth.login_failed", actor=actor, resource=resource, data=data)
    if attempt.locked_until is None:
        return

    logger.warning(
        "login locked for %d seconds after %d failures user_id=%s",
        attempt.lock_seconds,
        attempt.failures,
        user_id,
    )
    directory.emit(
        session,
        "auth.login_locked",
        actor=actor,
        resource=resource,
        data={
            **data,
            "reason": "too_many_attempts",
            "locked_until": attempt.locked_until.isoformat(),
            "lock_seconds": attempt.lock_seconds,
        },
    )


def prune(session: Session, policy: Policy, now: datetime) -> int:
    """Delete quiet rows, then the oldest unlocked ones past MAX_TRACKED_NAMES; the count."""
    quiet = delete(LoginAttempt).where(LoginAttempt.last_attempt_at <= now - policy.quiet_after)
    removed: int = session.execute(quiet).rowcount or 0  # type: ignore[attr-defined]

    total = session.scalar(select(func.count()).select_from(LoginAttempt)) or 0
    if total > MAX_TRACKED_NAMES:
        unlocked = or_(LoginAttempt.locked_until.is_(None), LoginAttempt.locked_until <= now)
        oldest = (
            select(LoginAttempt.key)
            .where(unlocked)
            .order_by(LoginAttempt.last_attempt_at)
            .limit(total - MAX_TRACKED_NAMES)
        )
        result = session.execute(delete(LoginAttempt).where(LoginAttempt.key.in_(oldest)))
        evicted = result.rowcount or 0  # type: ignore[attr-defined]
        logger.warning("login throttle tracks over %d names; %d evicted", total, evicted)
        removed += evicted
    return removed
