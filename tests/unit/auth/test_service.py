"""The RPC entrypoints through nameko's worker_factory, on a real SQLite database."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from unittest import mock

import pytest

from services.auth import passwords, tokens
from services.auth.exceptions import (
    DepartmentAdminNotFound,
    DepartmentExists,
    DepartmentNotFound,
    InvalidCredentials,
    InvalidToken,
    LastCloudAdmin,
    MemberNotFound,
    PermissionDenied,
    ProjectExists,
    ProjectNotFound,
    TokenExpired,
    TokenNotFound,
    TokenRevoked,
    UserDisabled,
    UserExists,
    UserNotFound,
)
from services.auth.models import utcnow
from shared.errors import ValidationFailed

from .conftest import ACTOR

PASSWORD = "correct horse battery"


@pytest.fixture
def alice(service: Any) -> dict[str, Any]:
    return service.create_user(ACTOR, "alice", "alice's passphrase", email="a@example.org")


# -- login, authenticate, revoke -------------------------------------------------------------


def test_login_authenticate_revoke(service: Any, admin: dict[str, Any], events) -> None:
    answer = service.login("root", PASSWORD)
    assert set(answer) == {"token", "token_id", "expires_at"}
    assert answer["token"].startswith("scs_")

    principal = service.authenticate(answer["token"])
    assert principal == {
        "user_id": admin["id"],
        "username": "root",
        "is_cloud_admin": True,
        "token_id": answer["token_id"],
    }

    revoked = service.revoke_token(admin["id"], answer["token_id"])
    assert revoked["token_id"] == answer["token_id"]
    with pytest.raises(TokenRevoked):
        service.authenticate(answer["token"])
    assert service.revoke_token(admin["id"], answer["token_id"]) == revoked

    assert [e["type"] for e in events()] == ["user.created", "token.created", "token.revoked"]


def test_login_default_ttl_and_expiry(service: Any, admin: dict[str, Any]) -> None:
    answer = service.login("root", PASSWORD, ttl_seconds=120, name="cli")
    expires = datetime.fromisoformat(answer["expires_at"])
    assert timedelta(seconds=110) < expires - utcnow() <= timedelta(seconds=120)

    later = utcnow() + timedelta(seconds=121)
    with mock.patch.object(tokens, "utcnow", return_value=later), pytest.raises(TokenExpired):
        service.authenticate(answer["token"])

    default = service.login("root", PASSWORD)
    lifetime = datetime.fromisoformat(default["expires_at"]) - utcnow()
    assert timedelta(hours=11) < lifetime <= timedelta(hours=12)


def test_unknown_user_and_wrong_password_are_the_same_error(
    service: Any, admin: dict[str, Any]
) -> None:
    with mock.patch.object(
        passwords, "burn_verification", wraps=passwords.burn_verification
    ) as burn:
        with pytest.raises(InvalidCredentials) as unknown:
            service.login("nobody", PASSWORD)
        burn.assert_called_once()
    with pytest.raises(InvalidCredentials) as wrong:
        service.login("root", "wrong password")

    assert unknown.value.to_dict() == wrong.value.to_dict()
    assert unknown.value.code == "invalid_credentials"


def test_disabled_user_cannot_log_in_or_authenticate(
    service: Any, admin: dict[str, Any], alice: dict[str, Any]
) -> None:
    token = service.login("alice", "alice's passphrase")["token"]
    service.disable_user(alice["id"])

    with pytest.raises(UserDisabled):
        service.authenticate(token)
    with pytest.raises(UserDisabled):
        service.login("alice", "alice's passphrase")
    with pytest.raises(InvalidCredentials):
        service.login("alice", "wrong password")


def test_authenticate_rejects_garbage(service: Any) -> None:
    with pytest.raises(InvalidToken):
        service.authenticate("scs_" + "x" * 43)
    with pytest.raises(ValidationFailed):
        service.authenticate(None)


def test_only_owner_or_cloud_admin_revokes(
    service: Any, admin: dict[str, Any], alice: dict[str, Any]
) -> None:
    bob = service.create_user(ACTOR, "bob", "bob's passphrase")
    alices = service.login("alice", "alice's passphrase")

    with pytest.raises(PermissionDenied) as denied:
        service.revoke_token(bob["id"], alices["token_id"])
    assert denied.value.code == "forbidden"
    assert service.authenticate(alices["token"])["user_id"] == alice["id"]

    service.revoke_token(admin["id"], alices["token_id"])
    with pytest.raises(TokenRevoked):
        service.authenticate(alices["token"])
    with pytest.raises(TokenNotFound):
        service.revoke_token(admin["id"], "0" * 32)


def test_create_api_token(service: Any, alice: dict[str, Any], events) -> None:
    answer = service.create_api_token(alice["id"], "deploy-script", 3600)
    assert service.authenticate(answer["token"])["token_id"] == answer["token_id"]
    created = events()[-1]
    assert created["type"] == "token.created"
    assert created["actor"] == ACTOR
    assert created["data"]["name"] == "deploy-script"

    with pytest.raises(UserNotFound):
        service.create_api_token("0" * 32, "x", 3600)
    with pytest.raises(ValidationFailed) as bad:
        service.create_api_token(alice["id"], "x", 0)
    assert list(bad.value.details["fields"]) == ["ttl_seconds"]


def test_password_is_rehashed_when_parameters_change(
    service: Any, database: Any, alice: dict[str, Any]
) -> None:
    from argon2 import PasswordHasher

    from services.auth.models import User

    weak = PasswordHasher(time_cost=1, memory_cost=8192).hash("alice's passphrase")
    with database.transaction() as session:
        session.get(User, alice["id"]).password_hash = weak

    service.login("alice", "alice's passphrase")

    with database.transaction() as session:
        assert session.get(User, alice["id"]).password_hash != weak
    service.login("alice", "alice's passphrase")


# -- users -----------------------------------------------------------------------------------


def test_create_get_list_users(service: Any, admin: dict[str, Any], alice: dict[str, Any]) -> None:
    assert service.get_user(alice["id"]) == alice
    assert alice["email"] == "a@example.org"
    assert alice["is_cloud_admin"] is False and alice["disabled"] is False
    assert "password" not in json.dumps(alice)

    first = service.list_users(limit=1, offset=0)
    second = service.list_users(limit=1, offset=1)
    assert first["total"] == second["total"] == 2
    assert [u["id"] for u in first["items"] + second["items"]] == [admin["id"], alice["id"]]
    assert (first["limit"], first["offset"]) == (1, 0)

    with pytest.raises(UserExists):
        service.create_user(ACTOR, "alice", "another passphrase")
    with pytest.raises(UserNotFound):
        service.get_user("0" * 32)
    with pytest.raises(ValidationFailed) as bad:
        service.create_user(ACTOR, "Not A Name", "long enough")
    assert list(bad.value.details["fields"]) == ["username"]
    with pytest.raises(ValidationFailed):
        service.list_users(limit=0)


def test_disable_user_is_idempotent_and_keeps_one_cloud_admin(
    service: Any, admin: dict[str, Any], alice: dict[str, Any], events
) -> None:
    first = service.disable_user(alice["id"])
    again = service.disable_user(alice["id"])
    assert first == again and first["disabled"] is True
    assert [e["type"] for e in events()].count("user.disabled") == 1

    with pytest.raises(LastCloudAdmin):
        service.disable_user(admin["id"])
    service.create_user(ACTOR, "root2", PASSWORD, is_cloud_admin=True)
    assert service.disable_user(admin["id"])["disabled"] is True


def test_events_carry_no_secrets(service: Any, admin: dict[str, Any], events) -> None:
    token = service.login("root", PASSWORD)["token"]
    service.create_user(ACTOR, "carol", "carol's passphrase")

    dumped = json.dumps(events())
    for secret in (PASSWORD, "carol's passphrase", token, token[4:], tokens.hash_token(token)):
        assert secret not in dumped
    assert "$argon2" not in dumped


# -- departments, projects, members ----------------------------------------------------------


def test_departments(service: Any, alice: dict[str, Any], events) -> None:
    dept = service.create_department("research", "labs")
    assert dept["name"] == "research" and dept["description"] == "labs"
    with pytest.raises(DepartmentExists):
        service.create_department("research")
    assert service.list_departments()["items"] == [dept]

    row = service.add_department_admin(dept["id"], alice["id"])
    assert service.add_department_admin(dept["id"], alice["id"]) == row
    assert service.remove_department_admin(dept["id"], alice["id"]) == {
        "department_id": dept["id"],
        "user_id": alice["id"],
    }
    with pytest.raises(DepartmentAdminNotFound):
        service.remove_department_admin(dept["id"], alice["id"])
    with pytest.raises(DepartmentNotFound):
        service.add_department_admin("0" * 32, alice["id"])

    types = [e["type"] for e in events()]
    assert types[-3:] == [
        "department.created",
        "department.admin_added",
        "department.admin_removed",
    ]
    assert events()[-3]["actor"] == ACTOR


def test_projects(service: Any, admin: dict[str, Any], events) -> None:
    dept = service.create_department("research")
    project = service.create_project("ml-training", dept["id"], "GPUs")
    assert service.get_project(project["id"]) == project
    assert project["department_id"] == dept["id"]

    with pytest.raises(ProjectExists):
        service.create_project("ml-training", dept["id"])
    with pytest.raises(DepartmentNotFound):
        service.create_project("other", "0" * 32)
    for bad in ("ML", "-a", "a-", "a_b", "a" * 64, ""):
        with pytest.raises(ValidationFailed) as caught:
            service.create_project(bad, dept["id"])
        assert list(caught.value.details["fields"]) == ["name"]

    created = events()[-1]
    assert created["type"] == "project.created"
    assert created["project"] == project["id"]
    assert created["resource"] == {
        "kind": "Project",
        "namespace": None,
        "name": "ml-training",
        "uid": project["id"],
    }

    service.delete_project(project["id"])
    with pytest.raises(ProjectNotFound):
        service.get_project(project["id"])
    assert events()[-1]["type"] == "project.deleted"


def test_members_and_project_visibility(
    service: Any, admin: dict[str, Any], alice: dict[str, Any], events
) -> None:
    bob = service.create_user(ACTOR, "bob", "bob's passphrase")
    d1 = service.create_department("d1")
    d2 = service.create_department("d2")
    p1 = service.create_project("p1", d1["id"])
    p2 = service.create_project("p2", d1["id"])
    service.create_project("p3", d2["id"])

    member = service.add_member(p1["id"], alice["id"], "user")
    assert member["role"] == "user" and member["username"] == "alice"
    assert service.add_member(p1["id"], alice["id"], "user") == member
    assert service.add_member(p1["id"], alice["id"], "project_admin")["role"] == "project_admin"
    with pytest.raises(ValidationFailed):
        service.add_member(p1["id"], alice["id"], "cloud_admin")
    service.add_department_admin(d2["id"], bob["id"])

    def names(user_id: str) -> list[str]:
        return [p["name"] for p in service.list_projects(user_id)["items"]]

    assert names(admin["id"]) == ["p1", "p2", "p3"]
    assert names(alice["id"]) == ["p1"]
    assert names(bob["id"]) == ["p3"]
    assert service.list_projects(admin["id"], limit=1, offset=1)["items"][0]["id"] == p2["id"]
    assert service.list_projects(admin["id"], limit=1)["total"] == 3

    members = service.list_members(p1["id"])
    assert members["total"] == 1 and members["items"][0]["user_id"] == alice["id"]

    assert service.remove_member(p1["id"], alice["id"]) == {
        "project_id": p1["id"],
        "user_id": alice["id"],
    }
    with pytest.raises(MemberNotFound):
        service.remove_member(p1["id"], alice["id"])
    assert names(alice["id"]) == []

    types = [e["type"] for e in events() if e["type"].startswith("member.")]
    assert types == ["member.added", "member.role_changed", "member.removed"]


def test_deleting_a_project_removes_its_memberships(
    service: Any, alice: dict[str, Any], events
) -> None:
    dept = service.create_department("d")
    project = service.create_project("doomed", dept["id"])
    service.add_member(project["id"], alice["id"], "user")

    service.delete_project(project["id"])

    assert service.list_projects(alice["id"])["total"] == 0
    assert events()[-1]["data"]["members_removed"] == 1
    with pytest.raises(PermissionDenied):
        service.authorize(alice["id"], "workloads", "view", project["id"])


def test_health(service: Any) -> None:
    assert service.health() == {"status": "ok", "service": "auth"}


def test_validation_names_the_fields(service: Any) -> None:
    with pytest.raises(ValidationFailed) as caught:
        service.get_project(42)
    assert caught.value.details["fields"] == {"project_id": ["Not a valid string."]}
