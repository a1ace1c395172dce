"""Passwords: argon2id hashes, verification, and the weak-password rule."""

from __future__ import annotations

from typing import Any

import pytest

from services.auth import passwords
from shared.errors import ValidationFailed

from .conftest import ACTOR


def test_hash_is_argon2id_and_salted() -> None:
    first = passwords.hash_password("s3cret-passphrase")
    second = passwords.hash_password("s3cret-passphrase")
    assert first.startswith("$argon2id$")
    assert first != second
    assert "s3cret-passphrase" not in first


def test_verify() -> None:
    stored = passwords.hash_password("s3cret-passphrase")
    assert passwords.verify_password(stored, "s3cret-passphrase")
    assert not passwords.verify_password(stored, "s3cret-passphrasE")
    assert not passwords.verify_password("not a hash", "s3cret-passphrase")
    assert not passwords.needs_rehash(stored)
    assert passwords.needs_rehash("not a hash")


@pytest.mark.parametrize("weak", ["", "short", "1234567"])
def test_weak_passwords_are_refused_naming_the_field(service: Any, weak: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        service.create_user(ACTOR, "weakling", weak)
    assert list(caught.value.details["fields"]) == ["password"]
    assert weak not in str(caught.value.to_dict()) or weak == ""


def test_a_password_of_eight_characters_is_accepted(service: Any) -> None:
    assert service.create_user(ACTOR, "eight", "12345678")["username"] == "eight"
