"""`scs login`, `logout`, `whoami` and `config`: who talks to which gateway, in which project."""

from __future__ import annotations

import getpass
import logging
import os
import sys

from cli import names, settings
from cli.context import Context, resolve_project
from cli.errors import EXIT_USAGE, CliError
from cli.render import details, structured

logger = logging.getLogger(__name__)


def _ask(prompt: str, secret: bool) -> str:
    """Asked on a terminal; read as the next line of stdin otherwise (a pipe, a file), without
    a prompt or getpass's warnings. An empty answer is refused."""
    needed = CliError(EXIT_USAGE, "no_input", f"{prompt.strip(': ')} is needed")
    if not sys.stdin.isatty():
        answer = sys.stdin.readline().rstrip("\r\n")
    else:
        try:
            answer = getpass.getpass(prompt) if secret else input(prompt)
        except EOFError as exc:
            raise needed from exc
    if not answer:
        raise needed
    return answer


def login(ctx: Context) -> int:
    """Exchange username and password for a token, stored 0600 in the config directory."""
    username = ctx.args.username or os.environ.get("SCS_USERNAME") or _ask("Username: ", False)
    password = ctx.args.password or os.environ.get("SCS_PASSWORD") or _ask("Password: ", True)
    answer = ctx.gateway.call(
        "POST", "/auth/login", {"username": username, "password": password}, public=True
    )
    path = settings.save_credentials(ctx.gateway.server, answer["token"], username)
    logger.info("logged in as %s at %s", username, ctx.gateway.server)
    ctx.print(f"Logged in to {ctx.gateway.server} as {username} (token in {path}).")
    return 0


def logout(ctx: Context) -> int:
    removed = settings.forget_credentials()
    ctx.print("Logged out." if removed else "Not logged in.")
    return 0


def whoami(ctx: Context) -> int:
    me = ctx.gateway.get("/auth/whoami")
    if ctx.output != "table":
        ctx.print(structured(me, ctx.output))
        return 0
    ctx.print(details([(k.replace("_", " ").capitalize(), v) for k, v in me.items()]))
    return 0


def config(ctx: Context) -> int:
    action, value = ctx.args.action, ctx.args.value
    if action == "view":
        ctx.print(structured({**settings.load_config(), "server": ctx.gateway.server}, "yaml"))
        return 0
    if value is None:
        raise CliError(EXIT_USAGE, "usage", f"`scs config {action}` needs a value", "value")
    if action == "set-project":
        project = resolve_project(ctx.gateway, value)
        settings.update_config(project=project["id"])
        ctx.print(f"Project set to {project['name']} ({project['id']}).")
    else:
        settings.update_config(namespace=names.label(value, "namespace", "namespace"))
        ctx.print(f"Namespace set to {value}.")
    return 0
