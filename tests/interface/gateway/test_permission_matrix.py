"""Every cell of the permission matrix, through the gateway, for every role.

The expected answers below are written from the product's permission table (docs/permissions.md)
independently of services/auth/permissions.py, so a wrong entry in either shows up here.
An allowed call must get past authorisation (any answer but 401, 403 or 500: routes whose
service is not built yet answer 501, those whose service is not running in this suite 503); a
denied call must get 403 `forbidden`.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from gateway.api import ROUTES
from tests.interface.gateway.conftest import Client

pytestmark = pytest.mark.interface

ROLES = ("cloud_admin", "department_admin", "project_admin", "user")
ADMINS = {"cloud_admin", "department_admin", "project_admin"}
EVERYONE = set(ROLES)

# area -> action -> roles allowed in their own projects (cloud admin: everywhere).
EXPECTED: dict[str, dict[str, set[str]]] = {
    "cluster": {"view": {"cloud_admin"}},
    "nodes": {a: {"cloud_admin"} for a in ("view", "cordon", "label", "taint")},
    "namespaces": {a: ADMINS for a in ("view", "create", "delete")},
    "storage": {
        a: ADMINS for a in ("view", "view_storageclass_yaml", "view_pv_yaml", "delete_pv")
    },
    "workloads": {
        a: EVERYONE
        for a in (
            "view",
            "create",
            "configure_containers",
            "scale",
            "rollback",
            "update_strategy",
            "scaling_policy",
            "scheduling_policy",
            "network_settings",
            "labels",
            "edit_yaml",
            "start_stop",
            "redeploy",
            "delete",
            "run_cronjob",
            "stop_cronjob",
            "view_pod_yaml",
            "logs",
            "terminal",
            "delete_pod",
        )
    },
    "volume_claims": {a: EVERYONE for a in ("view", "create", "edit_yaml", "delete")},
    "config": {a: EVERYONE for a in ("view", "create", "update", "edit_yaml", "delete")},
    "network": {a: EVERYONE for a in ("view", "create", "update", "edit_yaml", "delete")},
    "custom_resources": {
        "view": EVERYONE,
        "import_crd": {"cloud_admin"},
        "import_cr": EVERYONE,
        "delete_cr": EVERYONE,
    },
    # Tenancy and quota rows the product adds to the design's table.
    "tenancy": {
        "view_project": EVERYONE,
        "manage_members": ADMINS,
        "manage_users": {"cloud_admin"},
        "manage_departments": {"cloud_admin"},
    },
    "quota": {"view": EVERYONE, "set_limits": {"cloud_admin", "department_admin"}},
    # Audit: members read their project's trail; transcripts are for admins.
    "audit": {"view": EVERYONE, "view_transcript": ADMINS},
    # Billing: admins read usage and cost of their projects; rates are the cloud admin's.
    "billing": {"view": ADMINS, "set_rates": {"cloud_admin"}},
    # GPUs: the full inventory is cluster information; the per-model summary is for everyone.
    "gpu": {"view": {"cloud_admin"}, "view_summary": EVERYONE},
}

# Routes that change real state: exercised by their own tests, not by the sweep.
SKIP_IN_SWEEP = {("tenancy", "create_project")}


def expected_allowed(role: str, area: str, action: str, target: str) -> bool:
    """target: 'own' (a project of the caller), 'other' (someone else's), 'cluster'."""
    if role == "cloud_admin":
        return True
    if target != "own":
        return False
    return role in EXPECTED[area][action]


def _concrete(path: str, project_id: str | None) -> str:
    path = path.replace("<project_id>", project_id or "")
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", "does-not-exist", path)


def _matrix_routes() -> list[Any]:
    return [r for r in ROUTES if r.area and (r.area, r.action) not in SKIP_IN_SWEEP]


def test_the_expected_table_covers_every_matrix_route() -> None:
    for r in _matrix_routes():
        assert r.action in EXPECTED[r.area], f"{r.area}.{r.action} has no expected answer"


def _request_body(route: Any) -> Any:
    # Invalid on purpose: an allowed caller then gets 400/404/501, never 403; a denied caller
    # must get 403 before validation happens.
    return {} if route.body is not None else None


def test_every_cell_for_every_role(client: Client, world: dict[str, Any]) -> None:
    mismatches = []
    checked = 0
    for r in _matrix_routes():
        targets = ["own", "other"] if "<project_id>" in r.path else ["cluster"]
        for role in ROLES:
            for target in targets:
                project = world["projects"]["own" if target == "own" else "other"]
                path = _concrete(r.path, project if target != "cluster" else None)
                reply = client.call(
                    r.method, path, token=world["tokens"][role], json_body=_request_body(r)
                )
                allowed = expected_allowed(role, r.area, r.action, target)
                if allowed:
                    # Past authorisation: the answer may still be 400/404 (the request is
                    # deliberately incomplete), 501 (service not built) or 503 (service not
                    # running in this suite), but never 401/403, and never a 500.
                    ok = reply.status not in (401, 403, 500)
                else:
                    ok = reply.status == 403 and reply.code == "forbidden"
                checked += 1
                if not ok:
                    mismatches.append(
                        f"{role} {target} {r.method} {path} ({r.area}.{r.action}): "
                        f"expected {'allowed' if allowed else '403'}, got {reply.status} "
                        f"{reply.body}"
                    )
    assert not mismatches, f"{len(mismatches)} of {checked} cells wrong:\n" + "\n".join(
        mismatches[:40]
    )
    assert checked > 400


def test_create_project_is_scoped_to_the_department(client: Client, world: dict) -> None:
    dept_admin = world["tokens"]["department_admin"]
    own = client.call(
        "POST",
        "/api/v1/projects",
        token=dept_admin,
        json_body={
            "name": "dept-admin-made",
            "department_id": world["departments"]["own"],
        },
    )
    assert own.status == 201, own.body
    other = client.call(
        "POST",
        "/api/v1/projects",
        token=dept_admin,
        json_body={
            "name": "not-allowed-here",
            "department_id": world["departments"]["other"],
        },
    )
    assert other.status == 403 and other.code == "forbidden"
    for role in ("project_admin", "user"):
        reply = client.call(
            "POST",
            "/api/v1/projects",
            token=world["tokens"][role],
            json_body={
                "name": f"by-{role.replace('_', '-')}",
                "department_id": world["departments"]["own"],
            },
        )
        assert reply.status == 403, (role, reply.body)


def test_permissions_endpoint_reads_the_same_table(client: Client, world: dict) -> None:
    for role in ROLES:
        reply = client.call(
            "GET",
            f"/api/v1/projects/{world['projects']['own']}/permissions",
            token=world["tokens"][role],
        )
        assert reply.status == 200, reply.body
        allowed = reply.body["allowed"]
        for area, actions in EXPECTED.items():
            for action in actions:
                if area in ("cluster", "nodes") or (area, action) == ("tenancy", "create_project"):
                    continue
                expected = expected_allowed(role, area, action, "own")
                assert (action in allowed.get(area, [])) == expected, (role, area, action)


def test_project_lists_are_scoped(client: Client, world: dict) -> None:
    mine = client.call("GET", "/api/v1/projects", token=world["tokens"]["user"])
    assert mine.status == 200
    ids = {p["id"] for p in mine.body["items"]}
    assert world["projects"]["own"] in ids
    assert world["projects"]["other"] not in ids
    everything = client.call("GET", "/api/v1/projects", token=world["tokens"]["cloud_admin"])
    ids = {p["id"] for p in everything.body["items"]}
    assert {world["projects"]["own"], world["projects"]["other"]} <= ids
