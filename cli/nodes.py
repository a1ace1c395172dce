"""The cluster's machines: `scs get nodes`, `describe node`, `cordon`, `uncordon`, `get gpus`.

Paths and shapes: gateway/routes/cluster.py (nodes: cloud admins only) and
gateway/routes/gpu.py (the inventory by node for cloud admins; with -p, the project's view
per model and architecture, without node names, for every member).
"""

from __future__ import annotations

import logging
from typing import Any

from cli import names, settings
from cli.client import api_path
from cli.context import Context
from cli.errors import EXIT_FORBIDDEN, EXIT_REFUSED, CliError
from cli.render import details, show, structured
from cli.resources import COLUMNS

logger = logging.getLogger(__name__)

NODE_FIELDS = (
    "name",
    "roles",
    "architecture",
    "ready",
    "unschedulable",
    "kata",
    "gpu",
    "capacity",
    "allocatable",
    "allocated",
    "pod_count",
    "labels",
    "taints",
)


def get_nodes(ctx: Context) -> tuple[Any, list, str]:
    if ctx.args.name:
        node = ctx.gateway.get(api_path("nodes", ctx.args.name))
        return node, [node], "nodes"
    answer = ctx.gateway.get("/nodes")
    return answer, answer["items"], "nodes"


def describe_node(ctx: Context, name: str) -> int:
    node = ctx.gateway.get(api_path("nodes", name))
    if ctx.output != "table":
        ctx.print(structured(node, ctx.output))
        return 0
    pairs = [(f.replace("_", " ").capitalize(), node.get(f)) for f in NODE_FIELDS]
    info = node.get("node_info") or {}
    pairs += [
        ("Kubelet", info.get("kubeletVersion")),
        ("OS image", info.get("osImage")),
        ("Runtime", info.get("containerRuntimeVersion")),
    ]
    ctx.print(details(pairs))
    conditions = node.get("conditions") or []
    ctx.print("\nConditions:\n" + show(None, "table", conditions, COLUMNS["node_conditions"]))
    pods = node.get("pods") or []
    ctx.print("\nPods:\n" + show(None, "table", pods, COLUMNS["node_pods"]))
    return 0


def _cordon(ctx: Context, verb: str) -> int:
    names.subdomain(str(ctx.args.node), "node", "node")
    node = ctx.gateway.call("POST", api_path("nodes", ctx.args.node, verb))
    logger.info("%s node %s", verb, ctx.args.node)
    if ctx.output != "table":
        ctx.print(structured(node, ctx.output))
    else:
        ctx.print(f"node/{ctx.args.node} {verb}ed")
    return 0


def cordon(ctx: Context) -> int:
    """New pods are no longer scheduled on the node; those running stay."""
    return _cordon(ctx, "cordon")


def uncordon(ctx: Context) -> int:
    return _cordon(ctx, "uncordon")


def get_gpus(ctx: Context) -> tuple[Any, list, str]:
    """With -p: the project's view per model (NAME: a model); else every node's devices
    (cloud admins; NAME: a node). Anyone else without -p gets the view of the configured
    default project."""
    if getattr(ctx.args, "project", None):
        return _named_rows(ctx, _project_gpus(ctx), "model", "gpu_models")
    try:
        answer = ctx.gateway.get("/gpus")
    except CliError as exc:
        if exc.exit_code != EXIT_FORBIDDEN:
            raise
        if not settings.load_config().get("project"):
            raise CliError(
                exc.exit_code,
                exc.code,
                f"{exc.message}; pass -p PROJECT for the project's GPUs per model",
                exc.field,
            ) from exc
        logger.info("every node's GPUs are for cloud admins: the default project's view")
        return _named_rows(ctx, _project_gpus(ctx), "model", "gpu_models")
    return _named_rows(ctx, answer, "node", "gpus")


def _project_gpus(ctx: Context) -> dict[str, Any]:
    return dict(ctx.gateway.get(api_path("projects", ctx.project(), "gpus")))


def _named_rows(
    ctx: Context, answer: dict[str, Any], field: str, columns: str
) -> tuple[Any, list, str]:
    """The answer's rows (`nodes` or `models`), only the one NAME names if given."""
    rows = answer[f"{field}s"]
    if ctx.args.name:
        rows = [row for row in rows if row.get(field) == ctx.args.name]
        if not rows:
            raise CliError(
                EXIT_REFUSED, f"gpu_{field}_not_found", f"no GPU {field} {ctx.args.name!r}", "name"
            )
        answer = {**answer, f"{field}s": rows}
    return answer, rows, columns
