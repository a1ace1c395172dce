"""Bearer tokens: generation, hash-only storage, expiry and revocation.

A token is "scs_" followed by 32 random bytes (URL-safe base64). The database keeps only its
SHA-256 (hex, unique index: `authenticate` is one indexed lookup) and a short public prefix
that lets a person recognise a token in a listing. The plain token exists once, in the answer
to the call that created it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.auth.exceptions import (
    InvalidToken,
    TokenExpired,
    TokenNotFound,
    TokenRevoked,
    UserDisabled,
)
from services.auth.models import ApiToken, User, utcnow

TOKEN_PREFIX = "scs_"
PUBLIC_PREFIX_LENGTH = 12
# "scs_" + 43 characters of base64 for 32 bytes; anything far off is refused before a lookup.
MAX_TOKEN_LENGTH = 128


@dataclass(frozen=True)
class IssuedToken:
    token: str
    row: ApiToken


def generate_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(
    session: Session, user: User, name: str, ttl_seconds: int, now: datetime | None = None
) -> IssuedToken:
    """Add a new token for `user` to the session; the plain token is returned, not stored."""
    now = now or utcnow()
    token = generate_token()
    row = ApiToken(
        user_id=user.id,
        name=name,
        prefix=token[:PUBLIC_PREFIX_LENGTH],
        token_hash=hash_token(token),
        created_at=now,
        expires_at=now + timedelta(seconds=ttl_seconds),
    )
    session.add(row)
    session.flush()
    return IssuedToken(token=token, row=row)


def resolve_token(
    session: Session, token: str, now: datetime | None = None
) -> tuple[ApiToken, User]:
    """The token's row and its user, or the Unauthenticated error that says why not."""
    if (
        not isinstance(token, str)
        or not token.startswith(TOKEN_PREFIX)
        or len(token) > MAX_TOKEN_LENGTH
    ):
        raise InvalidToken("the token is not valid")

    found = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == hash_token(token))
    ).first()
    if found is None:
        raise InvalidToken("the token is not valid")

    row, user = found
    if row.revoked_at is not None:
        raise TokenRevoked("the token was revoked", {"token_id": row.id})
    if row.expires_at <= (now or utcnow()):
        raise TokenExpired("the token has expired", {"token_id": row.id})
    if user.disabled_at is not None:
        raise UserDisabled("the user is disabled", {"user_id": user.id})
    return row, user


def get_token(session: Session, token_id: str) -> ApiToken:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise TokenNotFound("no such token", {"token_id": token_id})
    return row


def revoke(row: ApiToken, now: datetime | None = None) -> bool:
    """Mark the token revoked; False when it already was (revoking is idempotent)."""
    if row.revoked_at is not None:
        return False
    row.revoked_at = now or utcnow()
    return True


def token_dict(row: ApiToken) -> dict[str, Any]:
    """A token's public description (never the token or its hash)."""
    return {
        "token_id": row.id,
        "user_id": row.user_id,
        "name": row.name,
        "prefix": row.prefix,
        "created_at": row.created_at.isoformat(),
        "expires_at": row.expires_at.isoformat(),
        "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
    }
