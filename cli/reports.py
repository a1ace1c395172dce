"""`scs audit`, `usage` and `set-quota`: the project's audit trail, billed usage, limits."""

from __future__ import annotations

from typing import Any

from cli.context import Context
from cli.errors import EXIT_USAGE, CliError
from cli.render import show, structured
from cli.resources import COLUMNS

AUDIT_FILTERS = ("type", "actor", "since", "until", "resource_kind", "resource_name", "outcome")


def audit(ctx: Context) -> int:
    params: dict[str, Any] = {f: getattr(ctx.args, f, None) for f in AUDIT_FILTERS}
    params["limit"] = ctx.args.limit
    if ctx.args.all_projects:
        answer = ctx.gateway.get("/audit", **params)
    else:
        answer = ctx.gateway.get(f"/projects/{ctx.project()}/audit", **params)
    ctx.print(show(answer, ctx.output, answer["items"], COLUMNS["audit"]))
    return 0


def usage_rows(usage: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per metric and part: requested/overhead, or the GPU model / storage class."""
    rows = []
    for metric, value in usage.items():
        if not isinstance(value, dict):
            continue
        for part, amount in sorted(value.items()):
            rows.append({"metric": metric, "part": part, "value": amount})
    return rows


def usage(ctx: Context) -> int:
    period = {"since": ctx.args.since, "until": ctx.args.until}
    answer = ctx.gateway.get(f"/projects/{ctx.project()}/billing/usage", **period)
    ctx.print(show(answer, ctx.output, usage_rows(answer), COLUMNS["usage"]))
    return 0


def parse_limits(pairs: list[str]) -> dict[str, str]:
    """`cpu=4 memory=8Gi` into `{"cpu": "4", "memory": "8Gi"}`; the gateway checks values."""
    limits = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name or not value:
            raise CliError(EXIT_USAGE, "usage", f"{pair!r} is not RESOURCE=VALUE", "limits")
        limits[name] = value
    return limits


def set_quota(ctx: Context) -> int:
    limits = parse_limits(ctx.args.limits)
    path = f"/projects/{ctx.project()}/quota"
    answer = ctx.gateway.call("PUT", path, {"limits": limits})
    if ctx.output != "table":
        ctx.print(structured(answer, ctx.output))
    else:
        ctx.print("quota set: " + ", ".join(f"{k}={v}" for k, v in limits.items()))
    return 0
