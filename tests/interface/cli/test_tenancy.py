"""A cloud admin sets up tenancy with `scs` end to end, and the error paths of those commands.

The real CLI (a subprocess) against the in-process suite of conftest.py: auth, quota, audit,
billing and gateway on the real RabbitMQ and PostgreSQL. Nothing is faked. One suite serves the
whole module; each test uses names of its own.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.interface.cli.conftest import Scs
from tests.interface.gateway.conftest import ADMIN

pytestmark = pytest.mark.interface


def ok(result: Any) -> Any:
    assert result.code == 0, result.err
    return result


def rows(result: Any) -> list[list[str]]:
    return [line.split() for line in ok(result).out.splitlines()[1:]]


def test_a_cloud_admin_sets_up_a_department_a_project_and_its_members(scs: Scs) -> None:
    scs.login(*ADMIN)
    ok(scs("create", "department", "research", "--description", "R&D"))
    ok(scs("create", "project", "vision", "--department", "research"))
    alice = ok(scs("create", "user", "alice", "--password", "alice-password-1"))
    assert alice.out.startswith("user/alice created (")
    bob = ok(scs("create", "user", "bob", "-o", "json"))
    generated = re.fullmatch(
        r"Generated password for bob \(shown once, not stored\): (\S+)\n", bob.err
    )
    assert generated and json.loads(bob.out)["username"] == "bob"

    ok(scs("add", "member", "alice", "--role", "project_admin", "-p", "vision"))
    ok(scs("add", "member", "bob", "--role", "user", "-p", "vision"))
    assert [row[:2] for row in rows(scs("get", "members", "-p", "vision"))] == [
        ["alice", "project_admin"],
        ["bob", "user"],
    ]
    assert {"admin", "alice", "bob"} <= {row[1] for row in rows(scs("get", "users"))}
    assert [row[1] for row in rows(scs("get", "departments"))] == ["research"]
    project = json.loads(ok(scs("get", "projects", "vision", "-o", "json")).out)
    department = json.loads(ok(scs("get", "department", "research", "-o", "json")).out)
    assert project["department_id"] == department["id"]
    assert "Username:" in ok(scs("describe", "user", "bob")).out

    # The generated password works; the new project admin sees the members.
    scs.login("bob", generated.group(1))
    assert json.loads(ok(scs("whoami", "-o", "json")).out)["username"] == "bob"
    scs.login("alice", "alice-password-1")
    assert len(rows(scs("get", "members", "-p", "vision"))) == 2

    scs.login(*ADMIN)
    ok(scs("add", "department-admin", "alice", "--department", "research"))
    ok(scs("remove", "department-admin", "alice", "--department", "research"))
    ok(scs("remove", "member", "bob", "-p", "vision"))
    assert [row[0] for row in rows(scs("get", "members", "-p", "vision"))] == ["alice"]
    ok(scs("disable", "user", "bob"))
    assert json.loads(ok(scs("get", "user", "bob", "-o", "json")).out)["disabled"] is True
    refused = scs("login", "-u", "bob", env={"SCS_PASSWORD": generated.group(1)})
    assert refused.code == 3


def test_an_unknown_user_exits_1_with_one_line(scs: Scs) -> None:
    scs.login(*ADMIN)
    ok(scs("create", "department", "unknowns"))
    ok(scs("create", "project", "unknowns", "--department", "unknowns"))
    result = scs("add", "member", "nobody", "--role", "user", "-p", "unknowns")
    assert (result.code, result.err) == (
        1,
        "error: user_not_found: no user 'nobody' (field: user)\n",
    )
    result = scs("create", "project", "elsewhere", "--department", "nowhere")
    assert (result.code, result.err) == (
        1,
        "error: department_not_found: no department 'nowhere' (field: department)\n",
    )


def test_a_user_who_is_not_a_cloud_admin_exits_4(scs: Scs) -> None:
    scs.login(*ADMIN)
    ok(scs("create", "user", "carol", "--password", "carol-password-1"))
    scs.login("carol", "carol-password-1")
    for argv in (
        ("create", "department", "carols"),
        ("get", "users"),
        ("set-rates", "gpu_seconds=1"),
    ):
        result = scs(*argv)
        assert result.code == 4, (argv, result.err)
        assert result.err.startswith("error: forbidden: ") and result.err.count("\n") == 1


def test_a_duplicate_name_exits_1_with_the_conflict_code(scs: Scs) -> None:
    scs.login(*ADMIN)
    ok(scs("create", "department", "twice"))
    result = scs("create", "department", "twice")
    assert result.code == 1
    assert result.err.startswith("error: department_exists: ") and result.err.count("\n") == 1
    ok(scs("create", "user", "dave", "--password", "dave-password-1"))
    result = scs("create", "user", "dave", "--password", "dave-password-1")
    assert result.code == 1 and result.err.startswith("error: user_exists: ")


def test_rates_are_read_and_set(scs: Scs) -> None:
    scs.login(*ADMIN)
    ok(scs("set-rates", "gpu_seconds.tesla-t4=0.0004", "cpu_core_seconds=0.00002"))
    rates = {row[0]: row[1] for row in rows(scs("get", "rates"))}
    assert rates["gpu_seconds.tesla-t4"] == "0.0004"
    assert rates["cpu_core_seconds"] == "0.00002"
    result = scs("set-rates", "cpu_core_seconds=-1")
    assert result.code == 1 and "(field: cpu_core_seconds)" in result.err


def test_a_plain_member_is_told_they_may_not_manage_members(scs: Scs) -> None:
    scs.login(*ADMIN)
    ok(scs("create", "user", "erin", "--password", "erin-password-1"))
    ok(scs("create", "department", "erins"))
    ok(scs("create", "project", "erins", "--department", "erins"))
    ok(scs("add", "member", "erin", "--role", "user", "-p", "erins"))
    scs.login("erin", "erin-password-1")
    result = scs("add", "member", "erin", "--role", "project_admin", "-p", "erins")
    assert (result.code, result.err) == (
        4,
        "error: forbidden: you may not manage members of project erins (field: project)\n",
    )
