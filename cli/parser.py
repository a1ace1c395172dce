"""The command line: argparse, with usage errors as one line and exit code 2."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any, NoReturn

from cli import account, apply, demo, inspect, nodes, reports, tenancy, terminal, workloads
from cli.errors import EXIT_USAGE
from cli.render import FORMATS

S = argparse.SUPPRESS


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"error: usage: {message} (see `{self.prog} --help`)\n")
        sys.exit(EXIT_USAGE)


def _common() -> argparse.ArgumentParser:
    """Options every command accepts, before or after its name (SUPPRESS keeps either)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--server", default=S, help="gateway URL (SCS_SERVER)")
    common.add_argument("-o", "--output", choices=FORMATS, default=S, help="output format")
    common.add_argument("-p", "--project", default=S, help="project name or id")
    common.add_argument("-n", "--namespace", default=S, help="namespace")
    common.add_argument("-v", "--verbose", action="store_true", default=S, help="debug logs")
    return common


def _wait_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--wait", action="store_true", help="follow the rollout to the end")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds for --wait")


def build_parser() -> argparse.ArgumentParser:
    common = _common()
    parser = Parser(prog="scs", parents=[common], description="Secure Container Service CLI")
    commands: Any = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    def add(name: str, handler: Callable[..., int], help_text: str) -> Any:
        sub = commands.add_parser(name, parents=[common], help=help_text, description=help_text)
        sub.set_defaults(handler=handler, needs_login=name not in ("login", "logout"))
        return sub

    sub = add("login", account.login, "log in and keep the token (0600)")
    sub.add_argument("--username", "-u", help="else SCS_USERNAME, else asked")
    sub.add_argument("--password", help="else SCS_PASSWORD, else asked without echo")
    add("logout", account.logout, "forget the stored token")
    add("whoami", account.whoami, "who the token belongs to")
    sub = add("config", account.config, "choose the default project or namespace")
    sub.add_argument("action", choices=("set-project", "set-namespace", "view"))
    sub.add_argument("value", nargs="?")

    _resource_commands(add)
    _admin_commands(add)
    _workload_commands(add)
    _report_commands(add)
    _exec_command(add)
    _demo_command(add)
    _expose_command(add)
    return parser


KINDS_HELP = (
    "workloads, pods, services, claims, quota, projects, namespaces, users, departments,"
    " members, nodes, gpus, config (configmaps, secrets), rates"
)


def _resource_commands(add: Callable[..., Any]) -> None:
    for name, handler, text in (
        ("get", inspect.get, "list resources, or show one"),
        ("describe", inspect.describe, "details of one resource"),
        ("delete", inspect.delete, "delete a resource"),
    ):
        sub = add(name, handler, text)
        sub.add_argument("kind", help=KINDS_HELP)
        sub.add_argument("name", nargs="?")
        if name == "get":
            sub.add_argument("-w", "--workload", help="pods of this workload only")
            sub.add_argument(
                "--reveal", action="store_true", help="config: show Secret values (-o json|yaml)"
            )
        if name == "delete":
            sub.add_argument(
                "--kind",
                dest="object_kind",
                choices=("Service", "Ingress"),
                default="Service",
                help="for services: Service or Ingress",
            )
            sub.add_argument("--force", action="store_true", help="namespaces: even if not empty")


def _workload_commands(add: Callable[..., Any]) -> None:
    sub = add("create", inspect.create, "create a namespace, department, project or user")
    sub.add_argument("kind", help="namespace, department, project, user")
    sub.add_argument("name")
    _wait_options(sub)
    _tenancy_create_options(sub)

    sub = add("apply", apply.apply, "create or replace workloads from (multi-document) YAML")
    sub.add_argument("-f", "--file", required=True, help="YAML file, or - for stdin")
    _wait_options(sub)

    sub = add("scale", workloads.scale, "set a workload's replicas (quota-checked)")
    sub.add_argument("name")
    sub.add_argument("--replicas", type=int, required=True)
    _wait_options(sub)

    sub = add("rollback", workloads.rollback, "roll back to a revision (default: previous)")
    sub.add_argument("name")
    sub.add_argument("--revision", type=int)
    _wait_options(sub)

    for name, handler, text in (
        ("start", workloads.start, "start with the remembered replicas"),
        ("stop", workloads.stop, "stop (scale to zero, suspend)"),
    ):
        sub = add(name, handler, text)
        sub.add_argument("name")
        _wait_options(sub)

    sub = add("logs", workloads.logs, "a pod's container logs")
    sub.add_argument("pod")
    sub.add_argument("-c", "--container")
    sub.add_argument("--tail", type=int, help="last N lines")
    sub.add_argument("-f", "--follow", action="store_true", help="keep printing new lines")
    sub.add_argument(
        "--max-duration", type=_seconds, metavar="SECONDS", help="-f: stop after this long"
    )


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


def _tenancy_create_options(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--description", help="department, project")
    sub.add_argument("--department", help="project: its department (name or id)")
    password = sub.add_mutually_exclusive_group()
    password.add_argument("--password", help="user: else generated and printed once")
    password.add_argument(
        "--password-stdin", action="store_true", help="user: the first line of stdin"
    )
    sub.add_argument("--email", help="user")
    sub.add_argument("--cloud-admin", action="store_true", help="user: a cloud admin")


def _admin_commands(add: Callable[..., Any]) -> None:
    """Tenancy (cli/tenancy.py), nodes (cli/nodes.py) and rates (cli/reports.py)."""
    for name, handler, text in (
        ("add", tenancy.add, "add a project member or a department admin"),
        ("remove", tenancy.remove, "remove a project member or a department admin"),
    ):
        sub = add(name, handler, text)
        sub.add_argument("kind", choices=("member", "department-admin"))
        sub.add_argument("name", metavar="USER", help="username or id")
        sub.add_argument("--department", help="department-admin: name or id")
        if name == "add":
            sub.add_argument("--role", choices=tenancy.ROLES, help="member: its role")
        else:
            sub.set_defaults(role=None)

    sub = add("disable", tenancy.disable, "disable a user (cloud admin)")
    sub.add_argument("kind", choices=("user",))
    sub.add_argument("name", metavar="USER", help="username or id")

    for name, handler, text in (
        ("cordon", nodes.cordon, "schedule no new pod on a node (cloud admin)"),
        ("uncordon", nodes.uncordon, "schedule pods on a node again (cloud admin)"),
    ):
        add(name, handler, text).add_argument("node")

    sub = add("set-rates", reports.set_rates, "set billing rates (cloud admin)")
    sub.add_argument(
        "rates", nargs="+", metavar="METRIC=PRICE", help="cpu_core_seconds=0.00002 ..."
    )


def _exec_command(add: Callable[..., Any]) -> None:
    sub = add("exec", terminal.run_exec, "run a command in a pod's container (terminal)")
    sub.add_argument("pod")
    sub.add_argument("-c", "--container")
    sub.add_argument("-i", "--stdin", action="store_true", help="send this terminal's input")
    sub.add_argument("-t", "--tty", action="store_true", help="keys as typed (raw terminal)")
    sub.add_argument(
        "command_line", nargs="+", metavar="COMMAND", help="after --: command and args"
    )


def _report_commands(add: Callable[..., Any]) -> None:
    sub = add("audit", reports.audit, "the project's audit records")
    for name in ("type", "actor", "since", "until", "resource-kind", "resource-name"):
        sub.add_argument(f"--{name}")
    sub.add_argument("--outcome", choices=("success", "denied"))
    sub.add_argument("--limit", type=int, default=50)
    sub.add_argument("--all-projects", action="store_true", help="cloud admin: everything")

    sub = add("set-quota", reports.set_quota, "set the project's limits (cloud admin)")
    sub.add_argument("limits", nargs="+", metavar="RESOURCE=VALUE", help="cpu=4 memory=8Gi")

    sub = add("usage", reports.usage, "the project's billed usage in a period")
    sub.add_argument("--since", help="ISO 8601 with a time zone")
    sub.add_argument("--until", help="ISO 8601 with a time zone")


def _expose_command(add: Callable[..., Any]) -> None:
    from cli import expose  # here, so this command's wiring stays one function

    sub = add("expose", expose.expose, "set how a workload is reached: its Service and Ingress")
    sub.add_argument("name", help="the workload")
    sub.add_argument(
        "--port",
        action="append",
        metavar="PORT[:TARGET][/PROTOCOL]",
        help="repeatable; TARGET: a port its containers declare, by number or name",
    )
    sub.add_argument(
        "--type",
        default="ClusterIP",
        choices=("ClusterIP", "NodePort", "LoadBalancer", "None"),
        help="the Service's type; None removes the Service and the Ingress",
    )
    sub.add_argument("--host", help="an Ingress for this host, to the first TCP --port")
    sub.add_argument("--path", help="the Ingress path (default /)")


def _demo_command(add: Callable[..., Any]) -> None:
    sub = add("demo", demo.run, "the first ten minutes: roles, examples, scaling, audit, bill")
    sub.set_defaults(needs_login=False)  # it logs in as each of its roles
    sub.add_argument("--admin-credentials", help="else SCS_ADMIN_PASSWORD, else make run's file")
    sub.add_argument("--examples", help="folder of the example manifests (default: examples/)")
    sub.add_argument("--tag", help="suffix of the demo's names (default: random)")
    sub.add_argument("--timeout", type=float, default=240.0, help="seconds for each wait")
    sub.add_argument("--cleanup", action="store_true", help="delete the namespace at the end")
