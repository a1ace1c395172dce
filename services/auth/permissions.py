"""The permission matrix of the product, as one data table, and pure functions over it.

`MATRIX[area][action]` says which roles may act and at which scope: the cloud admin "all"
(every project, and cluster-wide), every other role "own" (only where it holds the role).
The rows follow the product's design table; the `tenancy` and `quota` areas are this
service's addition for the management API (see README.md).

Roles are resolved per scope before these functions are called (see directory.py):
- in a project: cloud_admin (user flag), department_admin (admin of the project's
  department), and project_admin or user (membership);
- in a department: cloud_admin, department_admin of that department;
- cluster-wide (no project, no department): cloud_admin only.

Most actions are granted "own" in a project; `tenancy.create_project` is granted "own" in a
department (`Rule.target`). An "own" grant never applies in another kind of scope.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from shared.errors import ValidationFailed

CLOUD_ADMIN: Final = "cloud_admin"
DEPARTMENT_ADMIN: Final = "department_admin"
PROJECT_ADMIN: Final = "project_admin"
USER: Final = "user"

# Strongest first; `authorize` answers with the strongest role that grants the action.
ROLES: Final = (CLOUD_ADMIN, DEPARTMENT_ADMIN, PROJECT_ADMIN, USER)
MEMBER_ROLES: Final = frozenset({PROJECT_ADMIN, USER})

ALL: Final = "all"
OWN: Final = "own"

PROJECT: Final = "project"
DEPARTMENT: Final = "department"
CLUSTER: Final = "cluster"
SCOPES: Final = (PROJECT, DEPARTMENT, CLUSTER)


@dataclass(frozen=True)
class Rule:
    """Who may perform one action: role -> scope ("all" or "own")."""

    grants: Mapping[str, str]
    # What "own" refers to for this action: a project, or a department.
    target: str = field(default=PROJECT)


CLOUD_ONLY: Final = Rule({CLOUD_ADMIN: ALL})
ADMINS: Final = Rule({CLOUD_ADMIN: ALL, DEPARTMENT_ADMIN: OWN, PROJECT_ADMIN: OWN})
EVERYONE: Final = Rule({CLOUD_ADMIN: ALL, DEPARTMENT_ADMIN: OWN, PROJECT_ADMIN: OWN, USER: OWN})
DEPARTMENT_ADMINS: Final = Rule({CLOUD_ADMIN: ALL, DEPARTMENT_ADMIN: OWN})
DEPARTMENT_ADMINS_IN_DEPARTMENT: Final = Rule(
    {CLOUD_ADMIN: ALL, DEPARTMENT_ADMIN: OWN}, target=DEPARTMENT
)

MATRIX: Final[Mapping[str, Mapping[str, Rule]]] = {
    "cluster": {"view": CLOUD_ONLY},
    "nodes": {"view": CLOUD_ONLY, "cordon": CLOUD_ONLY, "label": CLOUD_ONLY, "taint": CLOUD_ONLY},
    "namespaces": {"view": ADMINS, "create": ADMINS, "delete": ADMINS},
    "storage": {
        "view": ADMINS,
        "view_storageclass_yaml": ADMINS,
        "view_pv_yaml": ADMINS,
        "delete_pv": ADMINS,
    },
    "workloads": {
        "view": EVERYONE,
        "create": EVERYONE,
        "configure_containers": EVERYONE,
        "scale": EVERYONE,
        "rollback": EVERYONE,
        "update_strategy": EVERYONE,
        "scaling_policy": EVERYONE,
        "scheduling_policy": EVERYONE,
        "network_settings": EVERYONE,
        "labels": EVERYONE,
        "edit_yaml": EVERYONE,
        "start_stop": EVERYONE,
        "redeploy": EVERYONE,
        "delete": EVERYONE,
        "run_cronjob": EVERYONE,
        "stop_cronjob": EVERYONE,
        "view_pod_yaml": EVERYONE,
        "logs": EVERYONE,
        "terminal": EVERYONE,
        "delete_pod": EVERYONE,
    },
    "volume_claims": {
        "view": EVERYONE,
        "create": EVERYONE,
        "edit_yaml": EVERYONE,
        "delete": EVERYONE,
    },
    "config": {
        "view": EVERYONE,
        "create": EVERYONE,
        "update": EVERYONE,
        "edit_yaml": EVERYONE,
        "delete": EVERYONE,
    },
    "network": {
        "view": EVERYONE,
        "create": EVERYONE,
        "update": EVERYONE,
        "edit_yaml": EVERYONE,
        "delete": EVERYONE,
    },
    "custom_resources": {
        "view": EVERYONE,
        "import_crd": CLOUD_ONLY,
        "import_cr": EVERYONE,
        "delete_cr": EVERYONE,
    },
    # Addition to the design: the tenancy management API.
    "tenancy": {
        "view_project": EVERYONE,
        "manage_members": ADMINS,
        "create_project": DEPARTMENT_ADMINS_IN_DEPARTMENT,
        "manage_users": CLOUD_ONLY,
        "manage_departments": CLOUD_ONLY,
    },
    # Addition to the design: project quotas (the quota service enforces them).
    "quota": {"view": EVERYONE, "set_limits": DEPARTMENT_ADMINS},
    # Addition to the design: the audit trail. Members read their project's records (the
    # gateway confines ordinary users to their own actions); transcripts are for admins.
    "audit": {"view": EVERYONE, "view_transcript": ADMINS},
    # Addition to the design: usage and cost; rates are the cloud admin's.
    "billing": {"view": ADMINS, "set_rates": CLOUD_ONLY},
    # Addition to the design: GPUs. Every node's devices are cluster information (like
    # nodes.view); the per-model summary helps anyone choose what to ask for.
    "gpu": {"view": CLOUD_ONLY, "view_summary": EVERYONE},
}


def rule(area: str, action: str) -> Rule:
    """The rule of one cell; ValidationFailed names the unknown area or action."""
    actions = MATRIX.get(area)
    if actions is None:
        raise ValidationFailed(
            f"unknown area {area!r}", {"fields": {"area": [f"unknown area {area!r}"]}}
        )
    found = actions.get(action)
    if found is None:
        raise ValidationFailed(
            f"unknown action {action!r} in area {area!r}",
            {"fields": {"action": [f"unknown action {action!r} in area {area!r}"]}},
        )
    return found


def granting_role(
    roles: Iterable[str], area: str, action: str, scope: str = PROJECT
) -> str | None:
    """The strongest of `roles` (held in a scope of kind `scope`) that may act, or None."""
    cell = rule(area, action)
    held = set(roles)
    for role in ROLES:
        if role not in held:
            continue
        granted = cell.grants.get(role)
        if granted == ALL or (granted == OWN and cell.target == scope):
            return role
    return None


def allowed(roles: Iterable[str], area: str, action: str, scope: str = PROJECT) -> bool:
    """Whether someone holding `roles` in a scope of kind `scope` may perform the action."""
    return granting_role(roles, area, action, scope) is not None


def allowed_actions(roles: Iterable[str], scope: str = PROJECT) -> dict[str, list[str]]:
    """Every area with the actions `roles` allow, in table order (the "what may I do" view)."""
    held = frozenset(roles)
    return {
        area: [action for action in actions if allowed(held, area, action, scope)]
        for area, actions in MATRIX.items()
    }


def scope_of(project_id: str | None, department_id: str | None) -> str:
    """The kind of scope a request names: a project wins over a department."""
    if project_id is not None:
        return PROJECT
    if department_id is not None:
        return DEPARTMENT
    return CLUSTER


def sort_roles(roles: Iterable[str]) -> list[str]:
    held = set(roles)
    return [role for role in ROLES if role in held]


def matrix_markdown() -> str:
    """The matrix as the Markdown table of docs/permissions.md (a test keeps them equal)."""
    header = "| area | action | " + " | ".join(ROLES) + " |"
    lines = [header, "|" + " --- |" * (len(ROLES) + 2)]
    for area, actions in MATRIX.items():
        for action, grant in actions.items():
            cells = []
            for role in ROLES:
                scope = grant.grants.get(role)
                if scope == ALL:
                    cells.append("all")
                elif scope == OWN:
                    cells.append(f"own {grant.target}s")
                else:
                    cells.append("—")
            lines.append(f"| {area} | {action} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(matrix_markdown(), end="")
