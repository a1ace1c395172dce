"""Rates and the cost report.

A rate is the price of one unit of a metric (`cpu_core_seconds`, `gpu_seconds.tesla-t4`,
`storage_gib_seconds.capacity`, ...). Where a metric has no rate of its own, its family's
rate applies (`gpu_seconds`, `storage_gib_seconds`), and an overhead metric falls back to its
requested counterpart. Rates come from the `billing_rates` table (set through `set_rates`),
then from the YAML file named by SCS_BILLING_RATES_FILE, then from DEFAULT_RATES.
"""

from __future__ import annotations

import logging
import os
from decimal import Decimal
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.billing.models import Rate, utcnow

logger = logging.getLogger(__name__)

MONEY = Decimal("0.000001")
DEFAULT_CURRENCY = "EUR"
DEFAULT_RATES: dict[str, Decimal] = {
    "cpu_core_seconds": Decimal("0.00001"),
    "memory_gib_seconds": Decimal("0.000001"),
    "gpu_seconds": Decimal("0.0005"),
    "storage_gib_seconds": Decimal("0.00000004"),
}
FALLBACKS = {
    "cpu_overhead_core_seconds": "cpu_core_seconds",
    "memory_overhead_gib_seconds": "memory_gib_seconds",
}


def configured() -> tuple[str, dict[str, Decimal]]:
    """Currency and rates of SCS_BILLING_RATES_FILE ({currency, rates: {metric: price}})."""
    path = os.environ.get("SCS_BILLING_RATES_FILE")
    rates = dict(DEFAULT_RATES)
    currency = os.environ.get("SCS_BILLING_CURRENCY", DEFAULT_CURRENCY)
    if not path:
        return currency, rates
    with open(path, encoding="utf-8") as handle:
        document = yaml.safe_load(handle) or {}
    currency = str(document.get("currency", currency))
    for metric, price in (document.get("rates") or {}).items():
        rates[str(metric)] = Decimal(str(price))
    return currency, rates


def current(session: Session) -> tuple[str, dict[str, Decimal]]:
    currency, rates = configured()
    for row in session.scalars(select(Rate)):
        rates[row.metric] = Decimal(row.price)
    return currency, rates


def set_rates(session: Session, rates: dict[str, Decimal]) -> None:
    for metric, price in rates.items():
        row = session.get(Rate, metric)
        if row is None:
            session.add(Rate(metric=metric, price=price))
        else:
            row.price = price
            row.updated_at = utcnow()
    logger.info("billing rates set: %s", ", ".join(sorted(rates)))


def price_of(metric: str, rates: dict[str, Decimal]) -> Decimal:
    if metric in rates:
        return rates[metric]
    if metric in FALLBACKS:
        return price_of(FALLBACKS[metric], rates)
    family = metric.split(".", 1)[0]
    return rates.get(family, Decimal(0))


def cost_lines(quantities: dict[str, Decimal], rates: dict[str, Decimal]) -> dict[str, Any]:
    """One line per metric (quantity × price) and the total, money to six places."""
    lines = []
    total = Decimal(0)
    for metric, quantity in quantities.items():
        price = price_of(metric, rates)
        amount = (quantity * price).quantize(MONEY)
        total += amount
        lines.append(
            {
                "metric": metric,
                "quantity": str(quantity),
                "price": plain(price),
                "amount": str(amount),
            }
        )
    return {"lines": lines, "total": str(total.quantize(MONEY))}


def plain(value: Decimal) -> str:
    """0.250000000000 -> "0.25" (the database's scale is not part of the price)."""
    return format(value.normalize(), "f")


def as_dict(currency: str, rates: dict[str, Decimal]) -> dict[str, Any]:
    return {"currency": currency, "rates": {k: plain(v) for k, v in sorted(rates.items())}}
