"""The `scs` CLI end to end against the in-process suite (see conftest.py: nothing faked)."""

from __future__ import annotations

import json
import stat
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.interface.cli.conftest import Scs

pytestmark = pytest.mark.interface


def test_login_stores_a_private_token_and_whoami_uses_it(scs: Scs, world: dict[str, Any]) -> None:
    result = scs.login("proj-admin")
    assert "Logged in to" in result.out and "as proj-admin" in result.out

    credentials = scs.config_dir / "credentials"
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    me = json.loads(scs("whoami", "-o", "json").out)
    assert me["user_id"] == world["users"]["proj-admin"]


def test_wrong_password_exits_3_with_one_line(scs: Scs, world: dict[str, Any]) -> None:
    result = scs("login", "-u", "proj-admin", env={"SCS_PASSWORD": "not-the-password"})
    assert result.code == 3
    assert result.err.startswith("error: ") and result.err.count("\n") == 1
    assert not (scs.config_dir / "credentials").exists()


def test_not_logged_in_exits_3(scs: Scs) -> None:
    result = scs("get", "quota", "-p", "vision")
    assert (result.code, result.err) == (
        3,
        "error: not_logged_in: not logged in: run `scs login` first\n",
    )


def test_a_revoked_or_bogus_token_exits_3(scs: Scs, world: dict[str, Any]) -> None:
    result = scs("get", "projects", env={"SCS_TOKEN": "bogus-token"})
    assert result.code == 3
    assert result.err.startswith("error: invalid_token: ")


def test_projects_by_name_and_default_project(scs: Scs, world: dict[str, Any]) -> None:
    scs.login("plain-user")
    table = scs("get", "projects").out.splitlines()
    assert table[0].split()[:2] == ["ID", "NAME"]
    assert [line.split()[1] for line in table[1:]] == ["vision"]

    assert scs("config", "set-project", "vision").code == 0
    project = yaml.safe_load(scs("get", "projects", "vision", "-o", "yaml").out)
    assert project["id"] == world["projects"]["own"]


def test_a_project_the_user_cannot_see_exits_1(scs: Scs, world: dict[str, Any]) -> None:
    scs.login("plain-user")
    result = scs("get", "quota", "-p", "ledger")
    assert result.code == 1
    assert result.err == (
        "error: project_not_found: no project 'ledger' among the projects you can see"
        " (field: project)\n"
    )


def test_no_permission_exits_4(scs: Scs, world: dict[str, Any]) -> None:
    # Namespaces are for admins only (permission matrix); a plain member is refused.
    scs.login("plain-user")
    result = scs("get", "namespaces", "-p", "vision")
    assert result.code == 4
    assert result.err.startswith("error: forbidden: ") and result.err.count("\n") == 1


def test_set_and_get_quota(scs: Scs, world: dict[str, Any]) -> None:
    scs.login("admin", "admin-password-1")
    result = scs("set-quota", "cpu=4", "memory=8Gi", "count.pods=10", "-p", "vision")
    assert result.code == 0, result.err

    rows = {
        line.split()[0]: line.split()
        for line in scs("get", "quota", "-p", "vision").out.splitlines()[1:]
    }
    assert rows["cpu"][1] == "4000" and rows["memory"][1] == str(8 * 2**30)
    assert rows["count.pods"][1:] == ["10", "0", "0", "0", "0"]


def test_bad_quota_value_names_the_field(scs: Scs, world: dict[str, Any]) -> None:
    scs.login("admin", "admin-password-1")
    result = scs("set-quota", "cpu=lots", "-p", "vision")
    assert result.code == 1
    assert result.err.startswith("error: validation_failed: ") and "(field: limits" in result.err


def test_quota_refused_to_a_plain_user_exits_4(scs: Scs, world: dict[str, Any]) -> None:
    scs.login("plain-user")
    result = scs("set-quota", "cpu=400", "-p", "vision")
    assert result.code == 4


def test_bad_yaml_exits_1_before_sending(scs: Scs, world: dict[str, Any], tmp_path: Path) -> None:
    scs.login("plain-user")
    manifest = tmp_path / "broken.yaml"
    manifest.write_text("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web\n")
    result = scs("apply", "-f", str(manifest), "-p", "vision", "-n", "vision-dev")
    assert result.code == 1
    assert result.err.startswith(f"error: invalid_yaml: {manifest} at line ")
    assert result.err.count("\n") == 1


def test_workload_service_down_exits_5(scs: Scs, world: dict[str, Any]) -> None:
    scs.login("plain-user")
    result = scs("get", "workloads", "-p", "vision")
    assert result.code == 5
    assert result.err.startswith("error: service_unavailable: ")


def test_audit_shows_the_projects_records(scs: Scs, world: dict[str, Any]) -> None:
    scs.login("admin", "admin-password-1")
    assert scs("set-quota", "count.pods=12", "-p", "vision").code == 0
    scs.login("proj-admin")

    deadline = time.monotonic() + 30
    while True:
        result = scs("audit", "--type", "quota.limits_set", "-p", "vision", "-o", "json")
        assert result.code == 0, result.err
        items = json.loads(result.out)["items"]
        if items or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert items and all(item["type"] == "quota.limits_set" for item in items)
    table = scs("audit", "--type", "quota.limits_set", "-p", "vision").out.splitlines()
    assert table[0].split()[:3] == ["TIME", "TYPE", "ACTOR"]


def test_usage_table(scs: Scs, world: dict[str, Any]) -> None:
    scs.login("proj-admin")
    result = scs("usage", "-p", "vision")
    assert result.code == 0, result.err
    metrics = {line.split()[0] for line in result.out.splitlines()[1:]}
    assert {"cpu_core_seconds", "memory_gib_seconds"} <= metrics


def test_usage_with_a_bad_period_names_the_field(scs: Scs, world: dict[str, Any]) -> None:
    scs.login("proj-admin")
    result = scs("usage", "--since", "yesterday", "-p", "vision")
    assert result.code == 1
    assert "(field: since)" in result.err
