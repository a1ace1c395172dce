"""Schemas of the billing service's RPC arguments (strict: unknown fields are refused)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from services.billing.exceptions import InvalidPeriod, InvalidRate
from services.billing.rates import DEFAULT_RATES, FALLBACKS
from shared.errors import ValidationFailed
from shared.schemas import StrictSchema, load

METRIC = re.compile(r"^[a-z_]+(\.[A-Za-z0-9][A-Za-z0-9_.-]{0,200})?$")
# Metrics a rate may be set for; these two are also priced per GPU model / StorageClass
# (`gpu_seconds.Tesla-T4`, `storage_gib_seconds.high-performance`).
METRICS = frozenset(DEFAULT_RATES) | frozenset(FALLBACKS)
PER_KIND = frozenset({"gpu_seconds", "storage_gib_seconds"})
DEFAULT_PERIOD = timedelta(days=30)


class PeriodSchema(StrictSchema):
    project_id = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(min=1, max=64)
    )
    since = fields.AwareDateTime(load_default=None, allow_none=True, default_timezone=UTC)
    until = fields.AwareDateTime(load_default=None, allow_none=True, default_timezone=UTC)

    @validates_schema
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        since, until = data.get("since"), data.get("until")
        if since is not None and until is not None and since >= until:
            raise ValidationError("must be after since", field_name="until")


def load_period(values: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Period with defaults (the last 30 days) and `until` clipped to now."""
    try:
        period = load(PeriodSchema(), values, location="arguments")
    except ValidationFailed as exc:
        raise InvalidPeriod(exc.message, exc.details) from exc
    until = min(period["until"] or now, now)
    since = period["since"] or until - DEFAULT_PERIOD
    if since >= until:
        raise InvalidPeriod(
            "the period starts in the future",
            {"location": "arguments", "fields": {"since": ["must be before now"]}},
        )
    return {**period, "since": since, "until": until}


def load_rates(rates: Any) -> dict[str, Decimal]:
    if not isinstance(rates, dict) or not rates:
        raise InvalidRate("rates must be a non-empty object", {"fields": {"rates": ["required"]}})
    loaded: dict[str, Decimal] = {}
    for metric, price in rates.items():
        try:
            value = Decimal(str(price))
        except InvalidOperation:
            value = Decimal(-1)
        base, _, kind = metric.partition(".") if isinstance(metric, str) else ("", "", "")
        if (
            not isinstance(metric, str)
            or not METRIC.match(metric)
            or base not in METRICS
            or (kind and base not in PER_KIND)
        ):
            known = (
                ", ".join(sorted(METRICS)) + "; gpu_seconds.<model>, storage_gib_seconds.<class>"
            )
            raise InvalidRate(
                f"unknown metric {metric!r}; one of: {known}",
                {"fields": {str(metric): ["unknown metric"]}},
            )
        if isinstance(price, bool) or not value.is_finite() or value < 0:
            raise InvalidRate(
                f"rate of {metric} must be a number >= 0",
                {"fields": {metric: ["must be a number >= 0"]}},
            )
        loaded[metric] = value
    return loaded
