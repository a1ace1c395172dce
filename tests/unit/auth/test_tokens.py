"""Tokens: format, hash-only storage, expiry and revocation."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from services.auth import tokens
from services.auth.exceptions import InvalidToken, TokenExpired, TokenRevoked, UserDisabled
from services.auth.models import User, utcnow
from shared.db import Database


@pytest.fixture
def user(database: Database) -> User:
    with database.transaction() as session:
        user = User(username="tess", password_hash="x", is_cloud_admin=False, created_at=utcnow())
        session.add(user)
    return user


def test_token_format() -> None:
    token = tokens.generate_token()
    assert token.startswith("scs_")
    assert len(token) == 4 + 43
    assert tokens.generate_token() != token


def test_only_the_hash_and_a_short_prefix_are_stored(database: Database, user: User) -> None:
    with database.transaction() as session:
        issued = tokens.issue_token(session, user, "ci", 3600)

    with database.engine.connect() as conn:
        dump = "\n".join(str(row) for row in conn.execute(text("SELECT * FROM api_tokens")))
        outbox = "\n".join(str(row) for row in conn.execute(text("SELECT * FROM outbox")))
    assert issued.token not in dump and issued.token not in outbox
    assert hashlib.sha256(issued.token.encode()).hexdigest() in dump
    assert issued.row.prefix == issued.token[:12]
    assert issued.token[12:] not in dump


def test_resolve_expiry_and_revocation(database: Database, user: User) -> None:
    now = utcnow()
    with database.transaction() as session:
        issued = tokens.issue_token(session, user, "ci", 60, now=now)

    with database.transaction() as session:
        row, owner = tokens.resolve_token(session, issued.token, now=now + timedelta(seconds=59))
        assert (row.id, owner.id) == (issued.row.id, user.id)
        with pytest.raises(TokenExpired):
            tokens.resolve_token(session, issued.token, now=now + timedelta(seconds=60))

    with database.transaction() as session:
        row = tokens.get_token(session, issued.row.id)
        assert tokens.revoke(row) is True
        first = row.revoked_at
        assert tokens.revoke(row) is False
        assert row.revoked_at == first

    with database.transaction() as session, pytest.raises(TokenRevoked):
        tokens.resolve_token(session, issued.token, now=now)


@pytest.mark.parametrize(
    "bad", ["", "Bearer x", "scs_", "scs_" + "A" * 43, "scs_" + "x" * 200, "tok_" + "A" * 43]
)
def test_malformed_or_unknown_tokens_are_invalid(database: Database, bad: str) -> None:
    with database.transaction() as session, pytest.raises(InvalidToken):
        tokens.resolve_token(session, bad)


def test_disabled_user_token_is_refused(database: Database, user: User) -> None:
    with database.transaction() as session:
        issued = tokens.issue_token(session, user, "ci", 3600)
        session.get(User, user.id).disabled_at = utcnow()  # type: ignore[union-attr]

    with database.transaction() as session, pytest.raises(UserDisabled):
        tokens.resolve_token(session, issued.token)


def test_authenticate_uses_the_hash_index(database: Database) -> None:
    with database.engine.connect() as conn:
        plan = conn.execute(
            text("EXPLAIN QUERY PLAN SELECT * FROM api_tokens WHERE token_hash = :h"),
            {"h": "0" * 64},
        ).all()
    assert any("ix_api_tokens_token_hash" in str(row) for row in plan)


def test_token_dict_shows_no_secret(database: Database, user: User) -> None:
    with database.transaction() as session:
        issued = tokens.issue_token(session, user, "ci", 3600)
    public: dict[str, Any] = tokens.token_dict(issued.row)
    assert issued.token not in str(public)
    assert issued.row.token_hash not in str(public)
