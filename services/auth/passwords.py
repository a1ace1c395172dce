"""Password hashing with argon2id (argon2-cffi's PasswordHasher and its defaults).

Hashing and verifying take tens of milliseconds of CPU on purpose. They run in eventlet's
thread pool so that a login does not stall every other call of the service on the hub.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from eventlet import tpool

MIN_LENGTH = 8
# Bounds the work an attacker can make argon2 do with one request.
MAX_LENGTH = 1024

_hasher = PasswordHasher()
_dummy_hash: str | None = None


def hash_password(password: str) -> str:
    return str(tpool.execute(_hasher.hash, password))


def verify_password(password_hash: str, password: str) -> bool:
    """True when `password` matches; never raises for a wrong password or a broken hash."""
    try:
        return bool(tpool.execute(_hasher.verify, password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than the current ones."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def burn_verification(password: str) -> None:
    """Spend the time of one verification, for unknown users (no timing oracle)."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = hash_password("not-a-real-password")
    verify_password(_dummy_hash, password)
