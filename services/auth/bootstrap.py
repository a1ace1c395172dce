"""`scs-auth-bootstrap`: create the first cloud admin (idempotent).

Reads SCS_ADMIN_USERNAME (default "admin") and SCS_ADMIN_PASSWORD. Without a password it
generates one and writes it, with the username, to `<state dir>/admin-credentials` (mode 0600),
printing only the file's path. Running it again when the user exists changes nothing.
"""

from __future__ import annotations

import logging
import os
import secrets
import sys
from pathlib import Path

from services.auth import directory, passwords
from shared.config import database_url, state_dir
from shared.db import Database, migrate
from shared.errors import ValidationFailed
from shared.events import SYSTEM_ACTOR

logger = logging.getLogger(__name__)

DEFAULT_USERNAME = "admin"


def bootstrap_admin(url: str, username: str, password: str) -> tuple[str, bool]:
    """Create `username` as a cloud admin unless it exists; (user id, created).

    The database must be migrated. An existing user is left exactly as it is.
    """
    if len(password) < passwords.MIN_LENGTH:
        raise ValidationFailed(
            "the admin password is too short",
            {"fields": {"password": [f"must be at least {passwords.MIN_LENGTH} characters"]}},
        )

    database = Database(url)
    with database.transaction() as session:
        existing = directory.find_user(session, username)
        if existing is not None:
            return existing.id, False

    password_hash = passwords.hash_password(password)
    with database.transaction() as session:
        # Checked again: another bootstrap may have won while the password was hashed.
        existing = directory.find_user(session, username)
        if existing is not None:
            return existing.id, False
        user = directory.create_user(
            session,
            actor=SYSTEM_ACTOR,
            username=username,
            password_hash=password_hash,
            is_cloud_admin=True,
        )
        return user.id, True


def generated_password() -> str:
    """192 random bits, URL-safe, never starting with '-' (a command line would read it as an
    option)."""
    while (password := secrets.token_urlsafe(24)).startswith("-"):
        pass
    return password


def write_credentials(path: Path, username: str, password: str) -> None:
    """Write the generated credentials readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # also when the file existed with wider permissions
        os.write(fd, f"username={username}\npassword={password}\n".encode())
    finally:
        os.close(fd)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO)
    url = database_url("auth")
    username = os.environ.get("SCS_ADMIN_USERNAME") or DEFAULT_USERNAME
    given = os.environ.get("SCS_ADMIN_PASSWORD")
    migrate("auth", url)

    path = state_dir() / "admin-credentials"
    password = given
    if password is None and not _exists(url, username):
        # Written before the user is created: a failed write must not lose the password.
        password = generated_password()
        write_credentials(path, username, password)
    try:
        user_id, created = bootstrap_admin(url, username, password or generated_password())
    except ValidationFailed as exc:
        print(f"scs-auth-bootstrap: {exc} (SCS_ADMIN_PASSWORD)", file=sys.stderr)
        return 2

    if not created:
        print(f"cloud admin {username!r} already exists ({user_id}); nothing changed")
    elif given:
        print(f"created cloud admin {username!r} ({user_id}) with the password given")
    else:
        print(f"created cloud admin {username!r} ({user_id}); its password is in {path}")
    return 0


def _exists(url: str, username: str) -> bool:
    with Database(url).transaction() as session:
        return directory.find_user(session, username) is not None


if __name__ == "__main__":
    sys.exit(main())
