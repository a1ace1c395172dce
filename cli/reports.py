"""`scs audit`, `usage`, `set-quota`, `get rates` and `set-rates`: the project's audit trail,
billed usage and limits; the billing rates (gateway/routes/billing.py)."""

from __future__ import annotations

from typing import Any

from cli.client import api_path
from cli.context import Context
from cli.errors import EXIT_REFUSED, EXIT_USAGE, CliError
from cli.render import show, structured
from cli.resources import COLUMNS

AUDIT_FILTERS = ("type", "actor", "since", "until", "resource_kind", "resource_name", "outcome")


def audit(ctx: Context) -> int:
    params: dict[str, Any] = {f: getattr(ctx.args, f, None) for f in AUDIT_FILTERS}
    params["limit"] = ctx.args.limit
    if ctx.args.all_projects:
        answer = ctx.gateway.get("/audit", **params)
    else:
        answer = ctx.gateway.get(api_path("projects", ctx.project(), "audit"), **params)
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
    answer = ctx.gateway.get(api_path("projects", ctx.project(), "billing", "usage"), **period)
    ctx.print(show(answer, ctx.output, usage_rows(answer), COLUMNS["usage"]))
    return 0


def parse_limits(
    pairs: list[str], what: str = "RESOURCE", field: str = "limits"
) -> dict[str, str]:
    """`cpu=4 memory=8Gi` into `{"cpu": "4", "memory": "8Gi"}`; the gateway checks values."""
    limits = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name or not value:
            raise CliError(EXIT_USAGE, "usage", f"{pair!r} is not {what}=VALUE", field)
        limits[name] = value
    return limits


def set_quota(ctx: Context) -> int:
    limits = parse_limits(ctx.args.limits)
    path = api_path("projects", ctx.project(), "quota")
    answer = ctx.gateway.call("PUT", path, {"limits": limits})
    if ctx.output != "table":
        ctx.print(structured(answer, ctx.output))
    else:
        ctx.print("quota set: " + ", ".join(f"{k}={v}" for k, v in limits.items()))
    return 0


def rate_rows(answer: dict[str, Any]) -> list[dict[str, Any]]:
    currency = answer.get("currency")
    rates = answer["rates"]
    return [{"metric": m, "rate": rates[m], "currency": currency} for m in sorted(rates)]


def get_rates(ctx: Context) -> tuple[Any, list, str]:
    """`scs get rates` (registered in cli/inspect.py): the price of one unit per metric."""
    answer = ctx.gateway.get("/billing/rates")
    rows = rate_rows(answer)
    if ctx.args.name:
        rows = [row for row in rows if row["metric"] == ctx.args.name]
        if not rows:
            raise CliError(EXIT_REFUSED, "rate_not_found", f"no rate {ctx.args.name!r}", "name")
        answer = {**answer, "rates": {row["metric"]: row["rate"] for row in rows}}
    return answer, rows, "rates"


def set_rates(ctx: Context) -> int:
    """`scs set-rates cpu_core_seconds=0.00002 gpu_seconds.tesla-t4=0.0004` (cloud admin).
    Prices go as the strings typed, so no digit is lost to a float."""
    rates = parse_limits(ctx.args.rates, "METRIC", "rates")
    answer = ctx.gateway.call("PUT", "/billing/rates", {"rates": rates})
    if ctx.output != "table":
        ctx.print(structured(answer, ctx.output))
        return 0
    ctx.print(
        "rates set: " + ", ".join(f"{k}={answer['rates'].get(k, v)}" for k, v in rates.items())
    )
    return 0
