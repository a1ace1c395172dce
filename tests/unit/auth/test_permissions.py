"""Every cell of the permission matrix, against a table written here from the design.

The expected table below is typed from the product design's permission table (plus the
tenancy and quota rows the auth README adds), independently of services/auth/permissions.py.
Each cell is checked for each role in its own scope, in another project and cluster-wide,
both on the pure functions and through the `authorize` RPC with a real database.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from services.auth import permissions
from services.auth.exceptions import PermissionDenied
from shared.errors import ValidationFailed

from .conftest import ACTOR

ROLES = ("cloud_admin", "department_admin", "project_admin", "user")

# area.action, then per role (columns as in ROLES): A = all, O = own, - = no access.
# "own" is the user's project, except tenancy.create_project: the user's department.
EXPECTED_TABLE = """
cluster.view                        A - - -
nodes.view                          A - - -
nodes.cordon                        A - - -
nodes.label                         A - - -
nodes.taint                         A - - -
namespaces.view                     A O O -
namespaces.create                   A O O -
namespaces.delete                   A O O -
storage.view                        A O O -
storage.view_storageclass_yaml      A O O -
storage.view_pv_yaml                A O O -
storage.delete_pv                   A O O -
workloads.view                      A O O O
workloads.create                    A O O O
workloads.configure_containers      A O O O
workloads.scale                     A O O O
workloads.rollback                  A O O O
workloads.update_strategy           A O O O
workloads.scaling_policy            A O O O
workloads.scheduling_policy         A O O O
workloads.network_settings          A O O O
workloads.labels                    A O O O
workloads.edit_yaml                 A O O O
workloads.start_stop                A O O O
workloads.redeploy                  A O O O
workloads.delete                    A O O O
workloads.run_cronjob               A O O O
workloads.stop_cronjob              A O O O
workloads.view_pod_yaml             A O O O
workloads.logs                      A O O O
workloads.terminal                  A O O O
workloads.delete_pod                A O O O
volume_claims.view                  A O O O
volume_claims.create                A O O O
volume_claims.edit_yaml             A O O O
volume_claims.delete                A O O O
config.view                         A O O O
config.create                       A O O O
config.update                       A O O O
config.edit_yaml                    A O O O
config.delete                       A O O O
network.view                        A O O O
network.create                      A O O O
network.update                      A O O O
network.edit_yaml                   A O O O
network.delete                      A O O O
custom_resources.view               A O O O
custom_resources.import_crd         A - - -
custom_resources.import_cr          A O O O
custom_resources.delete_cr          A O O O
tenancy.view_project                A O O O
tenancy.manage_members              A O O -
tenancy.create_project              A O - -
tenancy.manage_users                A - - -
tenancy.manage_departments          A - - -
quota.view                          A O O O
quota.set_limits                    A O - -
gpu.view                            A - - -
gpu.view_summary                    A O O O
audit.view                          A O O O
audit.view_transcript               A O O -
billing.view                        A O O -
billing.set_rates                   A - - -
"""

DEPARTMENT_SCOPED = {("tenancy", "create_project")}


def _expected() -> dict[tuple[str, str], dict[str, str]]:
    table = {}
    for line in EXPECTED_TABLE.strip().splitlines():
        cell, *marks = line.split()
        area, action = cell.split(".")
        assert len(marks) == len(ROLES), line
        table[(area, action)] = dict(zip(ROLES, marks, strict=True))
    return table


EXPECTED = _expected()
CELLS = sorted(EXPECTED)
WHERE = ("own", "other_project", "cluster_wide")


def _expect(role: str, cell: tuple[str, str], where: str) -> bool:
    mark = EXPECTED[cell][role]
    if mark == "A":
        return True
    return mark == "O" and where == "own"


def test_the_table_names_exactly_the_expected_cells() -> None:
    implemented = {(a, x) for a, actions in permissions.MATRIX.items() for x in actions}
    assert implemented == set(EXPECTED)


@pytest.mark.parametrize("cell", CELLS, ids=lambda c: ".".join(c))
@pytest.mark.parametrize("role", ROLES)
def test_pure_cell(role: str, cell: tuple[str, str]) -> None:
    area, action = cell
    own_scope = "department" if cell in DEPARTMENT_SCOPED else "project"
    # Roles as directory.roles_in_scope resolves them: nothing but the cloud admin's flag
    # outside the user's own project or department.
    held = {
        "own": {role},
        "other_project": {role} & {"cloud_admin"},
        "cluster_wide": {role} & {"cloud_admin"},
    }
    scope = {"own": own_scope, "other_project": "project", "cluster_wide": "cluster"}

    for where in WHERE:
        got = permissions.allowed(held[where], area, action, scope[where])
        assert got is _expect(role, cell, where), (role, cell, where)


@pytest.mark.parametrize("cell", CELLS, ids=lambda c: ".".join(c))
def test_own_grants_never_cross_into_another_kind_of_scope(cell: tuple[str, str]) -> None:
    area, action = cell
    own_scope = "department" if cell in DEPARTMENT_SCOPED else "project"
    for role, scope in itertools.product(ROLES[1:], ("project", "department", "cluster")):
        if scope != own_scope:
            assert not permissions.allowed({role}, area, action, scope), (role, cell, scope)


def test_unknown_area_or_action_is_a_validation_error() -> None:
    with pytest.raises(ValidationFailed) as area:
        permissions.allowed({"cloud_admin"}, "spaceships", "view")
    assert "area" in area.value.details["fields"]
    with pytest.raises(ValidationFailed) as action:
        permissions.allowed({"cloud_admin"}, "workloads", "launch")
    assert "action" in action.value.details["fields"]


def test_granting_role_is_the_strongest_held() -> None:
    held = {"user", "project_admin", "department_admin"}
    assert permissions.granting_role(held, "workloads", "view") == "department_admin"
    assert permissions.granting_role({"user", "project_admin"}, "storage", "view") == (
        "project_admin"
    )
    assert permissions.granting_role({"user"}, "storage", "view") is None


# -- through the service, with roles resolved from a real database ---------------------------


@pytest.fixture
def world(service: Any, admin: dict[str, Any]) -> dict[str, Any]:
    """One user per role in project `own` (department d1), and project `other` (d2)."""
    d1 = service.create_department("d1")
    d2 = service.create_department("d2")
    own = service.create_project("own", d1["id"])
    other = service.create_project("other", d2["id"])

    users = {"cloud_admin": admin["id"]}
    for role in ROLES[1:]:
        users[role] = service.create_user(ACTOR, role.replace("_", "-"), "long enough pw")["id"]
    service.add_department_admin(d1["id"], users["department_admin"])
    service.add_member(own["id"], users["project_admin"], "project_admin")
    service.add_member(own["id"], users["user"], "user")
    return {"users": users, "own": own, "other": other, "d1": d1, "d2": d2}


def _authorized(service: Any, user_id: str, cell: tuple[str, str], **scope: Any) -> bool:
    try:
        answer = service.authorize(user_id, cell[0], cell[1], **scope)
    except PermissionDenied as exc:
        assert exc.details == {
            "area": cell[0],
            "action": cell[1],
            "project_id": scope.get("project_id"),
        }
        return False
    assert answer["allowed"] is True
    return True


@pytest.mark.parametrize("role", ROLES)
def test_authorize_every_cell(service: Any, world: dict[str, Any], role: str) -> None:
    user_id = world["users"][role]
    for cell in CELLS:
        if cell in DEPARTMENT_SCOPED:
            own = {"department_id": world["d1"]["id"]}
            other = {"department_id": world["d2"]["id"]}
        else:
            own = {"project_id": world["own"]["id"]}
            other = {"project_id": world["other"]["id"]}
        scopes = {"own": own, "other_project": other, "cluster_wide": {}}

        for where in WHERE:
            got = _authorized(service, user_id, cell, **scopes[where])
            assert got is _expect(role, cell, where), (role, cell, where)


@pytest.mark.parametrize("role", ROLES)
def test_permissions_answer_matches_the_table(
    service: Any, world: dict[str, Any], role: str
) -> None:
    user_id = world["users"][role]
    answer = service.permissions(user_id, world["own"]["id"])

    assert answer["project_id"] == world["own"]["id"]
    assert answer["roles"] == [role]
    listed = {(area, action) for area, actions in answer["allowed"].items() for action in actions}
    expected = {
        cell for cell in CELLS if cell not in DEPARTMENT_SCOPED and _expect(role, cell, "own")
    } | ({("tenancy", "create_project")} if role == "cloud_admin" else set())
    assert listed == expected
    assert set(answer["allowed"]) == set(permissions.MATRIX)

    elsewhere = service.permissions(user_id, world["other"]["id"])
    others = {(a, x) for a, actions in elsewhere["allowed"].items() for x in actions}
    assert others == (set(CELLS) if role == "cloud_admin" else set())


def test_department_admin_covers_every_project_of_the_department(
    service: Any, world: dict[str, Any]
) -> None:
    later = service.create_project("later", world["d1"]["id"])
    answer = service.authorize(
        world["users"]["department_admin"], "workloads", "create", later["id"]
    )
    assert answer == {"allowed": True, "role": "department_admin"}


def test_a_member_holding_two_roles_is_answered_with_the_strongest(
    service: Any, world: dict[str, Any]
) -> None:
    dept_admin = world["users"]["department_admin"]
    service.add_member(world["own"]["id"], dept_admin, "user")

    answer = service.authorize(dept_admin, "namespaces", "create", world["own"]["id"])
    assert answer["role"] == "department_admin"
    assert service.permissions(dept_admin, world["own"]["id"])["roles"] == [
        "department_admin",
        "user",
    ]


def test_disabled_and_unknown_users_are_denied(service: Any, world: dict[str, Any]) -> None:
    user_id = world["users"]["user"]
    service.disable_user(user_id)
    for who in (user_id, "no-such-user"):
        with pytest.raises(PermissionDenied):
            service.authorize(who, "workloads", "view", world["own"]["id"])


def test_unknown_project_denies_without_revealing_it(service: Any, world: dict[str, Any]) -> None:
    with pytest.raises(PermissionDenied):
        service.authorize(world["users"]["project_admin"], "workloads", "view", "f" * 32)
    # The cloud admin is allowed everywhere; the owning service answers NotFound.
    answer = service.authorize(world["users"]["cloud_admin"], "workloads", "view", "f" * 32)
    assert answer == {"allowed": True, "role": "cloud_admin"}


def test_authorize_rejects_unknown_area_and_action(service: Any, world: dict[str, Any]) -> None:
    user_id = world["users"]["cloud_admin"]
    with pytest.raises(ValidationFailed):
        service.authorize(user_id, "spaceships", "view")
    with pytest.raises(ValidationFailed):
        service.authorize(user_id, "workloads", "launch")
