"""Tenancy: `scs create department|project|user`, `get users|departments|members`,
`describe user`, `add|remove member|department-admin`, `disable user`.

Paths and bodies: gateway/routes/tenancy.py. Users and departments are named on the command
line and resolved to ids here, by listing them (cloud admins only, like the API's
`manage_users` and `manage_departments`). Where the listing is refused (a department admin
creating a project, a project admin adding a member), a 32-hex id is used as it is.
"""

from __future__ import annotations

import logging
import re
import secrets
import sys
from typing import Any

from cli.client import api_path
from cli.context import Context
from cli.errors import EXIT_FORBIDDEN, EXIT_REFUSED, EXIT_USAGE, CliError
from cli.render import details, structured

logger = logging.getLogger(__name__)

PAGE = 500  # the API's largest page
ID = re.compile(r"^[0-9a-f]{32}$")  # the auth service's ids: uuid4 hex
ROLES = ("project_admin", "user")
GENERATED_PASSWORD_BYTES = 18  # 24 URL-safe characters, 144 bits


# -- name -> id -----------------------------------------------------------------------------


def list_all(ctx: Context, path: str) -> list[dict[str, Any]]:
    """Every item of a paged list (`{items, total, limit, offset}`)."""
    items: list[dict[str, Any]] = []
    while True:
        answer = ctx.gateway.get(path, limit=PAGE, offset=len(items))
        items.extend(answer["items"])
        if not answer["items"] or len(items) >= int(answer.get("total", len(items))):
            return items


def _resolve(ctx: Context, path: str, wanted: str, what: str, name_key: str) -> dict[str, Any]:
    """The item of `path` whose id or `name_key` is `wanted`; a 403 keeps a 32-hex id as is."""
    try:
        items = list_all(ctx, path)
    except CliError as exc:
        if exc.exit_code != EXIT_FORBIDDEN:
            raise
        if ID.match(wanted):
            return {"id": wanted}
        raise CliError(
            EXIT_FORBIDDEN,
            exc.code,
            f"{exc.message}; only a cloud admin can look up a {what} by name: pass its id",
            what,
        ) from exc
    for item in items:
        if item["id"] == wanted:
            return item
    named = [item for item in items if item[name_key] == wanted]
    if named:
        return named[0]  # names are unique (the auth service refuses duplicates)
    raise CliError(EXIT_REFUSED, f"{what}_not_found", f"no {what} {wanted!r}", what)


def resolve_user(ctx: Context, wanted: str) -> dict[str, Any]:
    return _resolve(ctx, "/users", wanted, "user", "username")


def resolve_department(ctx: Context, wanted: str) -> dict[str, Any]:
    return _resolve(ctx, "/departments", wanted, "department", "name")


def _member(ctx: Context, project: str, wanted: str, project_name: str) -> dict[str, Any]:
    """A member of the project, by username or user id (project admins may list members)."""
    for member in ctx.gateway.get(api_path("projects", project, "members"))["items"]:
        if wanted in (member["username"], member["user_id"]):
            return dict(member)
    raise CliError(
        EXIT_REFUSED,
        "member_not_found",
        f"{wanted!r} is not a member of project {project_name}",
        "user",
    )


def _done(ctx: Context, answer: Any, line: str) -> int:
    ctx.print(structured(answer, ctx.output) if ctx.output != "table" else line)
    return 0


# -- get and describe (registered in cli/inspect.py) -------------------------------------


def get_users(ctx: Context) -> tuple[Any, list, str]:
    if ctx.args.name:
        user = ctx.gateway.get(api_path("users", resolve_user(ctx, ctx.args.name)["id"]))
        return user, [user], "users"
    items = list_all(ctx, "/users")
    return {"items": items, "total": len(items)}, items, "users"


def get_departments(ctx: Context) -> tuple[Any, list, str]:
    if ctx.args.name:
        department = resolve_department(ctx, ctx.args.name)
        return department, [department], "departments"
    items = list_all(ctx, "/departments")
    return {"items": items, "total": len(items)}, items, "departments"


def get_members(ctx: Context) -> tuple[Any, list, str]:
    project = ctx.project_record()
    if ctx.args.name:
        member = _member(ctx, project["id"], ctx.args.name, project["name"])
        return member, [member], "members"
    answer = ctx.gateway.get(api_path("projects", project["id"], "members"))
    return answer, answer["items"], "members"


# -- create -------------------------------------------------------------------------------


def _usage(message: str, field: str) -> CliError:
    return CliError(EXIT_USAGE, "usage", message, field)


def refuse_options(ctx: Context, kind: str, allowed: tuple[str, ...]) -> None:
    """Options of another kind of `create` are a usage error, not silently ignored."""
    options = {
        "description": "--description",
        "department": "--department",
        "password": "--password",
        "password_stdin": "--password-stdin",
        "cloud_admin": "--cloud-admin",
        "email": "--email",
    }
    for attr, flag in options.items():
        if attr not in allowed and getattr(ctx.args, attr, None):
            raise _usage(f"{flag} does not apply to `scs create {kind}`", attr)


def create_department(ctx: Context) -> int:
    refuse_options(ctx, "department", ("description",))
    body = {"name": ctx.args.name, "description": ctx.args.description or ""}
    answer = ctx.gateway.call("POST", "/departments", body)
    logger.info("created department %s", answer.get("id"))
    return _done(ctx, answer, f"department/{ctx.args.name} created ({answer['id']})")


def create_project(ctx: Context) -> int:
    refuse_options(ctx, "project", ("description", "department"))
    if not ctx.args.department:
        raise _usage("`scs create project` needs --department NAME or id", "department")
    department = resolve_department(ctx, ctx.args.department)
    body = {
        "name": ctx.args.name,
        "department_id": department["id"],
        "description": ctx.args.description or "",
    }
    answer = ctx.gateway.call("POST", "/projects", body)
    logger.info("created project %s", answer.get("id"))
    return _done(ctx, answer, f"project/{ctx.args.name} created ({answer['id']})")


def _new_password(ctx: Context) -> tuple[str, bool]:
    """--password, else the first line of stdin (--password-stdin), else a generated one."""
    if ctx.args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise _usage("--password-stdin read an empty password", "password")
        return password, False
    if ctx.args.password:
        return str(ctx.args.password), False
    return generated_password(), True


def generated_password() -> str:
    """24 URL-safe characters, drawn again while the first is '-' (which `--password` and
    other option parsers would read as an option)."""
    while (password := secrets.token_urlsafe(GENERATED_PASSWORD_BYTES)).startswith("-"):
        pass
    return password


def create_user(ctx: Context) -> int:
    refuse_options(ctx, "user", ("password", "password_stdin", "cloud_admin", "email"))
    password, generated = _new_password(ctx)
    body: dict[str, Any] = {"username": ctx.args.name, "password": password}
    if ctx.args.email:
        body["email"] = ctx.args.email
    if ctx.args.cloud_admin:
        body["is_cloud_admin"] = True
    answer = ctx.gateway.call("POST", "/users", body)
    logger.info("created user %s", answer.get("id"))
    if generated:
        # Once, on stderr (stdout stays the record for -o json|yaml); never written anywhere.
        ctx.err.write(
            f"Generated password for {ctx.args.name} (shown once, not stored): {password}\n"
        )
        ctx.err.flush()
    role = " (cloud admin)" if answer.get("is_cloud_admin") else ""
    return _done(ctx, answer, f"user/{ctx.args.name} created{role} ({answer['id']})")


CREATORS = {
    "departments": create_department,
    "projects": create_project,
    "users": create_user,
}


# -- add, remove, disable -----------------------------------------------------------------


def add(ctx: Context) -> int:
    """`scs add member USER --role ROLE -p P` / `scs add department-admin USER --department D`."""
    if ctx.args.kind == "member":
        if ctx.args.department:
            raise _usage("--department does not apply to members (use -p)", "department")
        if not ctx.args.role:
            raise _usage(f"`scs add member` needs --role ({' or '.join(ROLES)})", "role")
        project = ctx.project_record()
        user = _member_to_be(ctx, project)
        body = {"user_id": user["id"], "role": ctx.args.role}
        answer = ctx.gateway.call("POST", api_path("projects", project["id"], "members"), body)
        line = f"member/{ctx.args.name} added to project {project['name']} as {ctx.args.role}"
        return _done(ctx, answer, line)
    if ctx.args.role:
        raise _usage("--role applies to members only", "role")
    department = _department_option(ctx)
    user = resolve_user(ctx, ctx.args.name)
    path = api_path("departments", department["id"], "admins")
    answer = ctx.gateway.call("POST", path, {"user_id": user["id"]})
    line = f"department-admin/{ctx.args.name} added to department {ctx.args.department}"
    return _done(ctx, answer, line)


def _member_to_be(ctx: Context, project: dict[str, Any]) -> dict[str, Any]:
    """The user to add; when the caller may not look users up, first whether they may manage
    the project's members at all (GET .../permissions: the caller's own rights)."""
    try:
        return resolve_user(ctx, ctx.args.name)
    except CliError as exc:
        if exc.exit_code != EXIT_FORBIDDEN:
            raise
        try:
            rights = ctx.gateway.get(api_path("projects", project["id"], "permissions"))
        except CliError:
            raise exc from None
        if "manage_members" in (rights.get("allowed") or {}).get("tenancy", []):
            raise
        raise CliError(
            EXIT_FORBIDDEN,
            "forbidden",
            f"you may not manage members of project {project['name']}",
            "project",
        ) from exc


def remove(ctx: Context) -> int:
    """`scs remove member USER -p P` / `scs remove department-admin USER --department D`."""
    if ctx.args.role:
        raise _usage("--role applies to `scs add member` only", "role")
    if ctx.args.kind == "member":
        if ctx.args.department:
            raise _usage("--department does not apply to members (use -p)", "department")
        project = ctx.project_record()
        member = _member(ctx, project["id"], ctx.args.name, project["name"])
        path = api_path("projects", project["id"], "members", member["user_id"])
        answer = ctx.gateway.call("DELETE", path)
        return _done(ctx, answer, f"member/{ctx.args.name} removed from {project['name']}")
    department = _department_option(ctx)
    user = resolve_user(ctx, ctx.args.name)
    answer = ctx.gateway.call(
        "DELETE", api_path("departments", department["id"], "admins", user["id"])
    )
    line = f"department-admin/{ctx.args.name} removed from department {ctx.args.department}"
    return _done(ctx, answer, line)


def disable(ctx: Context) -> int:
    """`scs disable user USER`: the user can no longer log in; their tokens stop working."""
    user = resolve_user(ctx, ctx.args.name)
    answer = ctx.gateway.call("POST", api_path("users", user["id"], "disable"))
    return _done(ctx, answer, f"user/{ctx.args.name} disabled")


def _department_option(ctx: Context) -> dict[str, Any]:
    if not ctx.args.department:
        raise _usage(
            f"`scs {ctx.args.command} department-admin` needs --department NAME or id",
            "department",
        )
    return resolve_department(ctx, ctx.args.department)


def describe_user(ctx: Context, name: str) -> int:
    user = ctx.gateway.get(api_path("users", resolve_user(ctx, name)["id"]))
    if ctx.output != "table":
        ctx.print(structured(user, ctx.output))
        return 0
    ctx.print(details([(k.replace("_", " ").capitalize(), v) for k, v in user.items()]))
    return 0
