"""What every command receives: parsed arguments, the gateway, output, project and namespace."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any, TextIO

from cli import names, settings
from cli.client import Gateway
from cli.errors import EXIT_REFUSED, EXIT_USAGE, CliError


@dataclass
class Context:
    args: Any
    gateway: Gateway
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)

    def __post_init__(self) -> None:
        # -n is checked before any request, like the names of cli/names.py
        if getattr(self.args, "namespace", None):
            names.label(str(self.args.namespace), "namespace", "namespace")

    @property
    def output(self) -> str:
        return str(getattr(self.args, "output", None) or "table")

    def print(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def project(self) -> str:
        """The project id of -p (a name or an id), else of `scs config set-project`."""
        return str(self.project_record()["id"])

    def project_record(self) -> dict[str, Any]:
        """The project (id, name, department_id, ...) that `project()` names."""
        wanted = getattr(self.args, "project", None) or settings.load_config().get("project")
        if not wanted:
            raise CliError(
                EXIT_USAGE,
                "no_project",
                "no project chosen: pass -p NAME or run `scs config set-project NAME`",
                "project",
            )
        return resolve_project(self.gateway, str(wanted))

    def namespace(self, required: bool = True) -> str | None:
        namespace = getattr(self.args, "namespace", None) or settings.load_config().get(
            "namespace"
        )
        if required and not namespace:
            raise CliError(
                EXIT_USAGE,
                "no_namespace",
                "no namespace chosen: pass -n NAMESPACE or run `scs config set-namespace NAME`",
                "namespace",
            )
        return names.label(str(namespace), "namespace", "namespace") if namespace else None


def resolve_project(gateway: Gateway, wanted: str) -> dict[str, Any]:
    """A project the caller can see, by id or by name."""
    items = gateway.get("/projects", limit=500)["items"]
    for project in items:
        if project["id"] == wanted:
            return dict(project)
    named = [p for p in items if p["name"] == wanted]
    if len(named) == 1:
        return dict(named[0])
    if named:
        raise CliError(
            EXIT_USAGE, "ambiguous_project", f"several projects are named {wanted!r}: use the id"
        )
    raise CliError(
        EXIT_REFUSED,
        "project_not_found",
        f"no project {wanted!r} among the projects you can see",
        "project",
    )
