"""Tenancy commands against the stub gateway (faked: the gateway, an HTTP stub answering canned
JSON; see conftest.py). Real: argument parsing, name -> id resolution, requests, rendering,
error lines and exit codes."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

ANA = {
    "id": "a" * 32,
    "username": "ana",
    "email": None,
    "is_cloud_admin": False,
    "disabled": False,
    "created_at": "2026-12-04T20:00:00+00:00",
    "disabled_at": None,
}
BOB = {**ANA, "id": "b" * 32, "username": "bob"}
RESEARCH = {"id": "d" * 32, "name": "research", "description": "", "created_at": "t"}
FORBIDDEN = {"code": "forbidden", "message": "manage_users on tenancy is not permitted",
             "details": {"area": "tenancy", "action": "manage_users"}}  # fmt: skip


def page(*items: dict[str, Any]) -> dict[str, Any]:
    return {"items": list(items), "total": len(items), "limit": 500, "offset": 0}


@pytest.fixture
def users(stub: Any) -> None:
    stub.on("GET", "/users", 200, page(ANA, BOB))


@pytest.fixture
def departments(stub: Any) -> None:
    stub.on("GET", "/departments", 200, page(RESEARCH))


def sent(stub: Any, method: str) -> list[dict[str, Any]]:
    return [r for r in stub.requests if r["method"] == method]


def one_line(run: Any) -> bool:
    return run.err.count("\n") == 1 and run.err.startswith("error: ")


# -- create ---------------------------------------------------------------------------------


def test_create_department(scs: Any, stub: Any) -> None:
    stub.on("POST", "/departments", 201, RESEARCH)
    run = scs("create", "department", "research", "--description", "R&D")
    assert (run.code, run.out) == (0, f"department/research created ({'d' * 32})\n")
    assert stub.requests[-1]["body"] == {"name": "research", "description": "R&D"}

    run = scs("create", "dept", "research", "-o", "json")
    assert json.loads(run.out) == RESEARCH
    assert stub.requests[-1]["body"] == {"name": "research", "description": ""}


def test_create_project_resolves_the_department_by_name_or_id(
    scs: Any, stub: Any, departments: None
) -> None:
    project = {"id": "p" * 32, "name": "vision", "department_id": RESEARCH["id"]}
    stub.on("POST", "/projects", 201, project)
    for department in ("research", RESEARCH["id"]):
        run = scs("create", "project", "vision", "--department", department)
        assert (run.code, run.out) == (0, f"project/vision created ({'p' * 32})\n"), run.err
        assert stub.requests[-1]["body"] == {
            "name": "vision",
            "department_id": RESEARCH["id"],
            "description": "",
        }


def test_create_project_in_an_unknown_department_exits_1_before_posting(
    scs: Any, stub: Any, departments: None
) -> None:
    run = scs("create", "project", "vision", "--department", "nowhere")
    assert run.code == 1
    assert run.err == "error: department_not_found: no department 'nowhere' (field: department)\n"
    assert sent(stub, "POST") == []


def test_a_department_admin_names_the_department_by_id(scs: Any, stub: Any) -> None:
    # Listing departments is for cloud admins; a department admin passes the id.
    stub.on("GET", "/departments", 403, {**FORBIDDEN, "message": "not permitted"})
    stub.on("POST", "/projects", 201, {"id": "p" * 32, "name": "vision"})
    run = scs("create", "project", "vision", "--department", RESEARCH["id"])
    assert run.code == 0, run.err
    assert stub.requests[-1]["body"]["department_id"] == RESEARCH["id"]

    run = scs("create", "project", "vision", "--department", "research")
    assert run.code == 4 and one_line(run)
    assert run.err.startswith("error: forbidden: not permitted; only a cloud admin can look up")
    assert run.err.endswith("(field: department)\n")


@pytest.mark.parametrize(
    "argv",
    [
        ("create", "project", "vision"),  # no --department
        ("create", "department", "x", "--department", "y"),
        ("create", "user", "ana", "--description", "x"),
        ("create", "user", "ana", "--password", "pw-123456", "--password-stdin"),
        ("create", "namespace", "dev", "--cloud-admin", "-p", "vision"),
        ("create", "user", "ana", "--wait"),
        ("create", "gadget", "x"),
    ],
)
def test_create_usage_errors_exit_2_before_any_request(
    scs: Any, stub: Any, argv: tuple[str, ...]
) -> None:
    run = scs(*argv)
    assert run.code == 2 and one_line(run), run.err
    assert stub.requests == []


def test_create_user_generates_a_password_shown_once_on_stderr(
    scs: Any, stub: Any, config_dir: Path
) -> None:
    stub.on("POST", "/users", 201, ANA)
    run = scs("create", "user", "ana", "-o", "yaml")
    assert run.code == 0, run.err
    password = stub.requests[-1]["body"]["password"]
    assert len(password) >= 24
    assert stub.requests[-1]["body"] == {"username": "ana", "password": password}
    assert run.err == f"Generated password for ana (shown once, not stored): {password}\n"
    assert password not in run.out and yaml.safe_load(run.out) == ANA
    stored = [p.read_text() for p in config_dir.rglob("*") if p.is_file()]
    assert not any(password in text for text in stored)

    scs("create", "user", "ana")
    assert stub.requests[-1]["body"]["password"] != password  # a new one each time


def test_a_generated_password_never_starts_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    from cli import tenancy

    draws = iter(["-starts-with-a-dash", "_fine"])
    monkeypatch.setattr(tenancy.secrets, "token_urlsafe", lambda _n: next(draws))
    assert tenancy.generated_password() == "_fine"


def test_create_user_with_a_password_from_stdin_as_a_cloud_admin(
    scs: Any, stub: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    stub.on("POST", "/users", 201, {**ANA, "is_cloud_admin": True})
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret-from-stdin\nignored\n"))
    run = scs("create", "user", "ana", "--password-stdin", "--cloud-admin", "--email", "a@b.c")
    assert run.code == 0, run.err
    assert run.out == f"user/ana created (cloud admin) ({'a' * 32})\n" and run.err == ""
    assert stub.requests[-1]["body"] == {
        "username": "ana",
        "password": "s3cret-from-stdin",
        "email": "a@b.c",
        "is_cloud_admin": True,
    }


def test_create_user_with_an_empty_stdin_is_a_usage_error(
    scs: Any, stub: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    run = scs("create", "user", "ana", "--password-stdin")
    assert run.code == 2 and run.err.startswith("error: usage: --password-stdin read an empty")
    assert stub.requests == []


@pytest.mark.parametrize(
    ("status", "code", "exit_code"),
    [(409, "department_exists", 1), (403, "forbidden", 4), (400, "validation_failed", 1)],
)
def test_create_refusals_map_to_exit_codes(
    scs: Any, stub: Any, status: int, code: str, exit_code: int
) -> None:
    body = {"code": code, "message": "refused", "details": {"name": "research"}}
    if code == "validation_failed":
        body["details"] = {"fields": {"name": ["must be a DNS-1123 label"]}}
    stub.on("POST", "/departments", status, body)
    run = scs("create", "department", "Research")
    assert run.code == exit_code and one_line(run)
    assert run.err.startswith(f"error: {code}: refused")
    if code == "validation_failed":
        assert run.err.endswith("(field: name)\n")


# -- get and describe -----------------------------------------------------------------------


def test_get_users_and_departments_tables(
    scs: Any, stub: Any, users: None, departments: None
) -> None:
    run = scs("get", "users")
    lines = run.out.splitlines()
    assert lines[0].split() == ["ID", "USERNAME", "EMAIL", "CLOUD-ADMIN", "DISABLED", "CREATED"]
    assert [line.split()[1] for line in lines[1:]] == ["ana", "bob"]
    assert stub.requests[-1]["query"] == {"limit": "500", "offset": "0"}

    run = scs("get", "departments")
    assert run.out.splitlines()[1].split()[:2] == [RESEARCH["id"], "research"]
    run = scs("get", "department", "research", "-o", "json")
    assert json.loads(run.out) == RESEARCH


def test_lists_are_read_page_by_page(scs: Any, stub: Any) -> None:
    stub.on("GET", "/users", 200, {"items": [ANA], "total": 2, "limit": 500, "offset": 0})
    run = scs("get", "users", "-o", "json")
    assert len(json.loads(run.out)["items"]) == 2
    assert [r["query"]["offset"] for r in stub.requests] == ["0", "1"]


def test_get_members_of_the_project(scs: Any, stub: Any, project: Any) -> None:
    members = [
        {"project_id": "p-1", "user_id": ANA["id"], "username": "ana", "role": "project_admin",
         "created_at": "t"},
        {"project_id": "p-1", "user_id": BOB["id"], "username": "bob", "role": "user",
         "created_at": "t"},
    ]  # fmt: skip
    stub.on("GET", "/projects/p-1/members", 200, page(*members))
    run = scs("get", "members", "-p", "vision")
    assert run.code == 0, run.err
    assert [line.split()[:2] for line in run.out.splitlines()] == [
        ["USERNAME", "ROLE"], ["ana", "project_admin"], ["bob", "user"],
    ]  # fmt: skip
    run = scs("get", "member", "carol", "-p", "vision")
    assert (run.code, run.err) == (
        1,
        "error: member_not_found: 'carol' is not a member of project vision (field: user)\n",
    )


def test_get_members_needs_a_project(scs: Any, stub: Any) -> None:
    run = scs("get", "members")
    assert run.code == 2 and run.err.startswith("error: no_project: ")


def test_describe_user_by_name(scs: Any, stub: Any, users: None) -> None:
    stub.on("GET", f"/users/{BOB['id']}", 200, BOB)
    run = scs("describe", "user", "bob")
    assert run.code == 0, run.err
    assert "Username:" in run.out and "bob" in run.out
    assert stub.requests[-1]["path"] == f"/api/v1/users/{BOB['id']}"

    run = scs("describe", "user", "nobody")
    assert (run.code, run.err) == (1, "error: user_not_found: no user 'nobody' (field: user)\n")
    run = scs("describe", "user")
    assert run.code == 2 and run.err.startswith("error: usage: `scs describe user` needs a NAME")


# -- members, department admins, disable ----------------------------------------------------


def test_add_member_resolves_the_user(scs: Any, stub: Any, project: Any, users: None) -> None:
    answer = {"project_id": "p-1", "user_id": BOB["id"], "username": "bob", "role": "user"}
    stub.on("POST", "/projects/p-1/members", 201, answer)
    run = scs("add", "member", "bob", "--role", "user", "-p", "vision")
    assert (run.code, run.out) == (0, "member/bob added to project vision as user\n"), run.err
    assert stub.requests[-1]["body"] == {"user_id": BOB["id"], "role": "user"}


def test_add_member_unknown_user_exits_1_before_posting(
    scs: Any, stub: Any, project: Any, users: None
) -> None:
    run = scs("add", "member", "nobody", "--role", "user", "-p", "vision")
    assert (run.code, run.err) == (1, "error: user_not_found: no user 'nobody' (field: user)\n")
    assert sent(stub, "POST") == []


def test_a_project_admin_adds_a_member_by_id(scs: Any, stub: Any, project: Any) -> None:
    stub.on("GET", "/users", 403, FORBIDDEN)
    stub.on("POST", "/projects/p-1/members", 201, {"user_id": BOB["id"], "role": "user"})
    run = scs("add", "member", BOB["id"], "--role", "user", "-p", "vision")
    assert run.code == 0, run.err
    assert stub.requests[-1]["body"] == {"user_id": BOB["id"], "role": "user"}

    rights = {"project_id": "p-1", "roles": ["project_admin"],
              "allowed": {"tenancy": ["view_project", "manage_members"]}}  # fmt: skip
    stub.on("GET", "/projects/p-1/permissions", 200, rights)
    run = scs("add", "member", "bob", "--role", "user", "-p", "vision")
    assert run.code == 4 and one_line(run)
    assert "only a cloud admin can look up a user by name: pass its id (field: user)" in run.err


def test_a_plain_member_is_told_they_may_not_manage_members(
    scs: Any, stub: Any, project: Any
) -> None:
    stub.on("GET", "/users", 403, FORBIDDEN)
    rights = {"project_id": "p-1", "roles": ["user"], "allowed": {"tenancy": ["view_project"]}}
    stub.on("GET", "/projects/p-1/permissions", 200, rights)
    run = scs("add", "member", "bob", "--role", "project_admin", "-p", "vision")
    assert (run.code, run.err) == (
        4,
        "error: forbidden: you may not manage members of project vision (field: project)\n",
    )
    assert sent(stub, "POST") == []


@pytest.mark.parametrize(
    "argv",
    [
        ("add", "member", "bob", "-p", "vision"),  # no --role
        ("add", "member", "bob", "--role", "admin", "-p", "vision"),
        ("add", "member", "bob", "--role", "user", "--department", "research"),
        ("add", "department-admin", "bob"),  # no --department
        ("add", "department-admin", "bob", "--department", "research", "--role", "user"),
        ("remove", "department-admin", "bob"),
        ("remove", "member", "bob", "--role", "user"),
        ("add", "owner", "bob"),
        ("disable", "department", "research"),
        ("cordon",),
        ("set-rates",),
        ("set-rates", "cpu_core_seconds"),
    ],
)
def test_admin_usage_errors_exit_2_before_any_request(
    scs: Any, stub: Any, argv: tuple[str, ...]
) -> None:
    run = scs(*argv)
    assert run.code == 2 and one_line(run), run.err
    assert stub.requests == []


def test_remove_member_resolves_through_the_members(scs: Any, stub: Any, project: Any) -> None:
    member = {"project_id": "p-1", "user_id": BOB["id"], "username": "bob", "role": "user"}
    stub.on("GET", "/projects/p-1/members", 200, page(member))
    path = f"/projects/p-1/members/{BOB['id']}"
    stub.on("DELETE", path, 200, {"project_id": "p-1", "user_id": BOB["id"]})
    run = scs("remove", "member", "bob", "-p", "vision")
    assert (run.code, run.out) == (0, "member/bob removed from vision\n"), run.err
    assert stub.requests[-1]["method"] == "DELETE"

    run = scs("remove", "member", "ana", "-p", "vision")
    assert run.code == 1 and run.err.startswith("error: member_not_found: 'ana' is not a member")
    assert len(sent(stub, "DELETE")) == 1


def test_department_admins(scs: Any, stub: Any, users: None, departments: None) -> None:
    base = f"/departments/{RESEARCH['id']}/admins"
    stub.on("POST", base, 201, {"department_id": RESEARCH["id"], "user_id": ANA["id"]})
    stub.on("DELETE", f"{base}/{ANA['id']}", 200, {"user_id": ANA["id"]})
    run = scs("add", "department-admin", "ana", "--department", "research")
    assert (run.code, run.out) == (0, "department-admin/ana added to department research\n")
    assert stub.requests[-1]["body"] == {"user_id": ANA["id"]}
    run = scs("remove", "department-admin", "ana", "--department", "research")
    assert (run.code, run.out) == (0, "department-admin/ana removed from department research\n")
    assert stub.requests[-1]["path"] == f"/api/v1{base}/{ANA['id']}"

    run = scs("add", "department-admin", "ana", "--department", "finance")
    assert run.code == 1
    assert run.err == "error: department_not_found: no department 'finance' (field: department)\n"


def test_disable_user(scs: Any, stub: Any, users: None) -> None:
    stub.on("POST", f"/users/{BOB['id']}/disable", 200, {**BOB, "disabled": True})
    run = scs("disable", "user", "bob")
    assert (run.code, run.out) == (0, "user/bob disabled\n")
    body = {"code": "last_cloud_admin", "message": "the last cloud admin", "details": {}}
    stub.on("POST", f"/users/{ANA['id']}/disable", 409, body)
    run = scs("disable", "user", "ana")
    assert (run.code, run.err) == (1, "error: last_cloud_admin: the last cloud admin\n")


def test_not_logged_in_exits_3_before_any_request(scs: Any, stub: Any) -> None:
    for argv in (("create", "department", "x"), ("add", "member", "b", "--role", "user")):
        run = scs(*argv, token=None)
        assert run.code == 3
    assert stub.requests == []
