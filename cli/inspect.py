"""`scs get`, `describe` and `delete` for workloads, pods, services, claims, quota, projects
and namespaces; `get` and `describe` also for the kinds of cli/tenancy.py (users, departments,
members), cli/nodes.py (nodes, gpus), config and rates. Paths and shapes: gateway/routes/*.py
(listed in cli/README.md)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from cli import names, nodes, reports, tenancy
from cli.client import api_path
from cli.context import Context, resolve_project
from cli.errors import EXIT_FORBIDDEN, EXIT_REFUSED, EXIT_UNAVAILABLE, EXIT_USAGE, CliError
from cli.render import details, show, structured
from cli.resources import COLUMNS, KINDS

logger = logging.getLogger(__name__)

WAIT_POLL_S = 0.5
# Jobs and CronJobs keep no revisions: the workload API refuses to list them.
KINDS_WITH_HISTORY = ("Deployment", "StatefulSet", "DaemonSet")


def kind_of(word: str) -> str:
    if word not in KINDS:
        known = ", ".join(sorted({v for v in KINDS.values()}))
        raise CliError(
            EXIT_USAGE, "unknown_kind", f"unknown kind {word!r}; one of: {known}", "kind"
        )
    return KINDS[word]


def _project_path(ctx: Context, *segments: str) -> str:
    return api_path("projects", ctx.project(), *segments)


def _need_name(ctx: Context, verb: str, kind: str) -> str:
    if not ctx.args.name:
        raise CliError(EXIT_USAGE, "usage", f"`scs {verb} {kind}` needs a NAME", "name")
    return str(ctx.args.name)


# Kinds whose NAME is a Kubernetes object's: checked before any request.
NAME_RULES: dict[str, Callable[[str, str, str], str]] = {
    "workloads": names.subdomain,
    "pods": names.subdomain,
    "services": names.label,
    "claims": names.subdomain,
    "namespaces": names.label,
    "nodes": names.subdomain,
    "config": names.subdomain,
}


def _checked_kind(ctx: Context) -> str:
    """The kind of the command line, its NAME (if any) checked against the kind's rule."""
    kind = kind_of(ctx.args.kind)
    rule = NAME_RULES.get(kind)
    if ctx.args.name and rule is not None:
        ingress = getattr(ctx.args, "object_kind", None) == "Ingress"
        check = names.subdomain if ingress else rule
        check(str(ctx.args.name), kind.rstrip("s"), "name")
    return kind


# -- get ----------------------------------------------------------------------------------


def get(ctx: Context) -> int:
    kind = _checked_kind(ctx)
    data, rows, columns = GETTERS[kind](ctx)
    ctx.print(show(data, ctx.output, rows, COLUMNS[columns]))
    return 0


def _get_workloads(ctx: Context) -> tuple[Any, list, str]:
    if ctx.args.name:
        path = _project_path(ctx, "workloads", ctx.args.name)
        record = ctx.gateway.get(path, namespace=ctx.namespace())
        return record, [record], "workload_status"
    answer = ctx.gateway.get(_project_path(ctx, "workloads"), namespace=ctx.namespace(False))
    return answer, answer["items"], "workloads"


def list_pods(ctx: Context, workload: str | None = None) -> list[dict[str, Any]]:
    """Pods of the project's workloads (in -n, or every namespace), one call per workload."""
    base = _project_path(ctx, "workloads")
    workloads = ctx.gateway.get(base, namespace=ctx.namespace(False))["items"]
    pods = []
    for record in workloads:
        if workload and record["name"] != workload:
            continue
        path = f"{base}{api_path(record['name'], 'pods')}"
        answer = ctx.gateway.get(path, namespace=record["namespace"])
        for pod in answer["items"]:
            pods.append({**pod, "namespace": record["namespace"], "workload": record["name"]})
    return pods


def _get_pods(ctx: Context) -> tuple[Any, list, str]:
    pods = list_pods(ctx, getattr(ctx.args, "workload", None))
    if ctx.args.name:
        pods = [p for p in pods if p["name"] == ctx.args.name]
        if not pods:
            raise CliError(EXIT_REFUSED, "pod_not_found", f"no pod {ctx.args.name!r}", "name")
    return {"items": pods}, pods, "pods"


def _named(items: list[dict[str, Any]], name: str | None, kind: str) -> list[dict[str, Any]]:
    if not name:
        return items
    found = [item for item in items if item.get("name") == name]
    if not found:
        raise CliError(EXIT_REFUSED, f"{kind}_not_found", f"no {kind} {name!r}", "name")
    return found


def _get_services(ctx: Context) -> tuple[Any, list, str]:
    answer = ctx.gateway.get(_project_path(ctx, "services"), namespace=ctx.namespace(False))
    items = _named(answer["items"], ctx.args.name, "service")
    return {"items": items}, items, "services"


def _get_claims(ctx: Context) -> tuple[Any, list, str]:
    path = _project_path(ctx, "volume-claims")
    answer = ctx.gateway.get(path, namespace=ctx.namespace(False))
    items = _named(answer["items"], ctx.args.name, "claim")
    return {"items": items}, items, "claims"


def _get_quota(ctx: Context) -> tuple[Any, list, str]:
    answer = ctx.gateway.get(_project_path(ctx, "quota"))
    rows = [{"resource": name, **row} for name, row in sorted(answer["resources"].items())]
    return answer, rows, "quota"


def _get_projects(ctx: Context) -> tuple[Any, list, str]:
    if ctx.args.name:
        project = resolve_project(ctx.gateway, ctx.args.name)
        return project, [project], "projects"
    answer = ctx.gateway.get("/projects", limit=500)
    return answer, answer["items"], "projects"


def _get_namespaces(ctx: Context) -> tuple[Any, list, str]:
    if ctx.args.name:
        namespace = ctx.gateway.get(_project_path(ctx, "namespaces", ctx.args.name))
        return namespace, [namespace], "namespaces"
    answer = ctx.gateway.get(_project_path(ctx, "namespaces"))
    return answer, answer["items"], "namespaces"


CONFIG_KINDS = {
    **dict.fromkeys(("configmaps", "configmap", "cm"), "ConfigMap"),
    **dict.fromkeys(("secrets", "secret"), "Secret"),
}


def _get_config(ctx: Context) -> tuple[Any, list, str]:
    """ConfigMaps and Secrets of -n, else of every namespace of the project (admins may list
    them). The table shows names and kinds only; Secret values stay masked by the API unless
    --reveal (admins, with -o json|yaml)."""
    reveal = bool(getattr(ctx.args, "reveal", False))
    if reveal and ctx.output == "table":
        raise CliError(EXIT_USAGE, "usage", "--reveal needs -o json or -o yaml", "reveal")
    path = _project_path(ctx, "config")
    namespace = ctx.namespace(False)
    if namespace:
        namespaces = [namespace]
    else:
        try:
            listed = ctx.gateway.get(_project_path(ctx, "namespaces"))["items"]
        except CliError as exc:
            if exc.exit_code != EXIT_FORBIDDEN:
                raise
            raise CliError(
                EXIT_USAGE,
                "no_namespace",
                "no namespace chosen: pass -n NAMESPACE (only admins may list the project's)",
                "namespace",
            ) from exc
        namespaces = [ns["name"] for ns in listed]
    params = {"kind": CONFIG_KINDS.get(ctx.args.kind), "reveal": "true" if reveal else None}
    items = []
    for name in namespaces:
        items.extend(ctx.gateway.get(path, namespace=name, **params)["items"])
    items = _named(items, ctx.args.name, "config")
    return {"items": items}, items, "config"


GETTERS: dict[str, Callable[[Context], tuple[Any, list, str]]] = {
    "workloads": _get_workloads,
    "pods": _get_pods,
    "services": _get_services,
    "claims": _get_claims,
    "quota": _get_quota,
    "projects": _get_projects,
    "namespaces": _get_namespaces,
    "users": tenancy.get_users,
    "departments": tenancy.get_departments,
    "members": tenancy.get_members,
    "nodes": nodes.get_nodes,
    "gpus": nodes.get_gpus,
    "config": _get_config,
    "rates": reports.get_rates,
}


# -- describe -----------------------------------------------------------------------------


def describe(ctx: Context) -> int:
    kind = _checked_kind(ctx)
    if kind == "workloads":
        return _describe_workload(ctx)
    if kind == "pods":
        name = _need_name(ctx, "describe", "pod")
        answer = ctx.gateway.get(
            _project_path(ctx, "pods", name, "yaml"), namespace=ctx.namespace()
        )
        ctx.print(
            answer["yaml"].rstrip() if ctx.output == "table" else structured(answer, ctx.output)
        )
        return 0
    if kind == "claims":
        name = _need_name(ctx, "describe", "claim")
        path = _project_path(ctx, "volume-claims", name, "yaml")
        answer = ctx.gateway.get(path, namespace=ctx.namespace())
        ctx.print(
            answer["yaml"].rstrip() if ctx.output == "table" else structured(answer, ctx.output)
        )
        return 0
    if kind == "users":
        return tenancy.describe_user(ctx, _need_name(ctx, "describe", "user"))
    if kind == "nodes":
        return nodes.describe_node(ctx, _need_name(ctx, "describe", "node"))
    data, rows, _ = GETTERS[kind](ctx)
    if ctx.output != "table":
        ctx.print(structured(data, ctx.output))
        return 0
    ctx.print("\n\n".join(details(list(row.items())) for row in rows) or "No resources found.")
    return 0


def _describe_workload(ctx: Context) -> int:
    name = _need_name(ctx, "describe", "workload")
    base, namespace = _project_path(ctx, "workloads", name), ctx.namespace()
    record = ctx.gateway.get(base, namespace=namespace)
    pods = ctx.gateway.get(f"{base}/pods", namespace=namespace)["items"]
    revisions = []
    if record.get("kind") in KINDS_WITH_HISTORY:
        revisions = ctx.gateway.get(f"{base}/revisions", namespace=namespace)["items"]
    if ctx.output != "table":
        data = {**record, "pods": pods, "revisions": revisions}
        ctx.print(structured(data, ctx.output))
        return 0
    fields = ("kind", "name", "namespace", "uid", "replicas", "stopped", "revision", "created_by")
    pairs = [(f.replace("_", " ").capitalize(), record.get(f)) for f in fields]
    pairs.append(("Rollout", record.get("rollout")))
    ctx.print(details(pairs))
    pod_rows = [{**p, "namespace": namespace, "workload": name} for p in pods]
    ctx.print("\nPods:\n" + show(None, "table", pod_rows, COLUMNS["pods"]))
    if record.get("kind") in KINDS_WITH_HISTORY:
        ctx.print("\nRevisions:\n" + show(None, "table", revisions, COLUMNS["revisions"]))
    return 0


# -- create -------------------------------------------------------------------------------


def create(ctx: Context) -> int:
    """`scs create namespace NAME [--wait]`: a project namespace, ready once set up;
    `scs create department|project|user NAME ...`: cli/tenancy.py."""
    kind = kind_of(ctx.args.kind)
    if kind in tenancy.CREATORS:
        if ctx.args.wait:
            raise CliError(EXIT_USAGE, "usage", "--wait applies to namespaces only", "wait")
        return tenancy.CREATORS[kind](ctx)
    if kind != "namespaces":
        known = ", ".join(["namespace", *sorted(k.rstrip("s") for k in tenancy.CREATORS)])
        raise CliError(EXIT_USAGE, "usage", f"`scs create` makes one of: {known}", "kind")
    tenancy.refuse_options(ctx, "namespace", ())
    names.label(str(ctx.args.name), "namespace", "name")
    path = _project_path(ctx, "namespaces")
    answer = ctx.gateway.call("POST", path, {"name": ctx.args.name})
    logger.info("created namespace %s", ctx.args.name)
    deadline = time.monotonic() + ctx.args.timeout
    while ctx.args.wait and not answer.get("ready"):
        if time.monotonic() > deadline:
            raise CliError(
                EXIT_UNAVAILABLE, "wait_timeout", f"namespace {ctx.args.name} is not ready"
            )
        time.sleep(WAIT_POLL_S)
        answer = ctx.gateway.get(f"{path}{api_path(ctx.args.name)}")
    if ctx.output != "table":
        ctx.print(structured(answer, ctx.output))
    else:
        state = "ready" if answer.get("ready") else answer.get("status", "created")
        ctx.print(f"namespace/{ctx.args.name} created ({state})")
    return 0


# -- delete -------------------------------------------------------------------------------


def delete(ctx: Context) -> int:
    kind = _checked_kind(ctx)
    if kind not in DELETERS:
        raise CliError(EXIT_USAGE, "usage", f"{kind} cannot be deleted with the CLI", "kind")
    name = _need_name(ctx, "delete", kind)
    answer = DELETERS[kind](ctx, name)
    if isinstance(answer, dict) and answer.get("deleted") is False:
        # The network service deletes idempotently: 200 with deleted=false for what is absent.
        what = ctx.args.object_kind if kind == "services" else kind.rstrip("s")
        where = f" in namespace {answer['namespace']}" if answer.get("namespace") else ""
        raise CliError(
            EXIT_REFUSED, f"{what.lower()}_not_found", f"no {what} {name!r}{where}", "name"
        )
    logger.info("deleted %s %s", kind, name)
    if ctx.output != "table":
        ctx.print(structured(answer, ctx.output))
    else:
        ctx.print(f"{kind.rstrip('s')}/{name} deleted")
    return 0


def _delete_workload(ctx: Context, name: str) -> Any:
    path = _project_path(ctx, "workloads", name)
    return ctx.gateway.call("DELETE", path, params={"namespace": ctx.namespace()})


def _delete_pod(ctx: Context, name: str) -> Any:
    path = _project_path(ctx, "pods", name)
    return ctx.gateway.call("DELETE", path, params={"namespace": ctx.namespace()})


def _delete_service(ctx: Context, name: str) -> Any:
    path = _project_path(ctx, "services", name)
    params = {"namespace": ctx.namespace(), "kind": ctx.args.object_kind}
    return ctx.gateway.call("DELETE", path, params=params)


def _delete_claim(ctx: Context, name: str) -> Any:
    path = _project_path(ctx, "volume-claims", name)
    return ctx.gateway.call("DELETE", path, params={"namespace": ctx.namespace()})


def _delete_namespace(ctx: Context, name: str) -> Any:
    params = {"force": "true" if ctx.args.force else None}
    return ctx.gateway.call("DELETE", _project_path(ctx, "namespaces", name), params=params)


DELETERS: dict[str, Callable[[Context, str], Any]] = {
    "workloads": _delete_workload,
    "pods": _delete_pod,
    "services": _delete_service,
    "claims": _delete_claim,
    "namespaces": _delete_namespace,
}
