"""The first cloud admin: `bootstrap_admin` and the `scs-auth-bootstrap` console script."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest

from services.auth import bootstrap
from services.auth.exceptions import InvalidCredentials
from shared.db import Database
from shared.errors import ValidationFailed


def test_bootstrap_is_idempotent(
    sqlite_url: str, database: Database, service: Any, events
) -> None:
    user_id, created = bootstrap.bootstrap_admin(sqlite_url, "admin", "first password")
    again, created_again = bootstrap.bootstrap_admin(sqlite_url, "admin", "other password")

    assert created and not created_again
    assert again == user_id
    assert service.get_user(user_id)["is_cloud_admin"] is True
    # The second run changed nothing: the first password still logs in.
    assert service.login("admin", "first password")["token"].startswith("scs_")
    with pytest.raises(InvalidCredentials):
        service.login("admin", "other password")
    assert [e["type"] for e in events()] == ["user.created", "token.created", "auth.login_failed"]
    assert events()[0]["actor"] == "system"


def test_bootstrap_refuses_a_weak_password(sqlite_url: str, database: Database) -> None:
    with pytest.raises(ValidationFailed):
        bootstrap.bootstrap_admin(sqlite_url, "admin", "short")


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SCS_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("SCS_AUTH_DATABASE_URL", f"sqlite:///{tmp_path / 'boot.sqlite3'}")
    monkeypatch.delenv("SCS_ADMIN_USERNAME", raising=False)
    monkeypatch.delenv("SCS_ADMIN_PASSWORD", raising=False)
    return tmp_path / "state"


def test_main_generates_a_password_into_a_private_file(
    state: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    assert bootstrap.main([]) == 0

    path = state / "admin-credentials"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    content = dict(line.split("=", 1) for line in path.read_text().splitlines())
    assert content["username"] == "admin"
    password = content["password"]
    assert len(password) >= 24

    out = capsys.readouterr()
    assert str(path) in out.out
    assert password not in out.out + out.err + caplog.text

    # Idempotent: a second run keeps the user and the file as they are.
    assert bootstrap.main([]) == 0
    assert "already exists" in capsys.readouterr().out
    assert dict(line.split("=", 1) for line in path.read_text().splitlines()) == content


def test_main_uses_the_password_from_the_environment(
    state: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SCS_ADMIN_USERNAME", "root")
    monkeypatch.setenv("SCS_ADMIN_PASSWORD", "given passphrase")

    assert bootstrap.main([]) == 0

    out = capsys.readouterr().out
    assert "'root'" in out and "given passphrase" not in out
    assert not (state / "admin-credentials").exists()


def test_main_fails_on_a_weak_password(
    state: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SCS_ADMIN_PASSWORD", "short")
    assert bootstrap.main([]) == 2
    assert "short" not in capsys.readouterr().err.replace("too short", "")


def test_a_generated_password_never_starts_with_a_dash(monkeypatch) -> None:
    # Faked: the random source, first drawing a password a command line would read as an option.
    draws = iter(["-looks-like-an-option", "fine-password"])
    monkeypatch.setattr(bootstrap.secrets, "token_urlsafe", lambda n: next(draws))
    assert bootstrap.generated_password() == "fine-password"
