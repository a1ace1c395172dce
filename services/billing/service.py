"""nameko entrypoints of the billing service: usage and cost queries, rates.

The meter (meter.py) is a plain pika consumer running in its own greenthread of this
container; these RPC methods only read what it stored. Rules live in usage.py and rates.py.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from services.billing import rates, usage
from services.billing.meter import MeterRunner
from services.billing.schemas import load_period, load_rates
from shared.db import DatabaseProvider
from shared.errors import ScsError
from shared.health import HealthRpc
from shared.rpc import rpc

logger = logging.getLogger(__name__)


class BillingService(HealthRpc):
    """Usage per project and period, rates and cost reports; `health` from HealthRpc."""

    name = "billing"

    db = DatabaseProvider("billing")
    meter = MeterRunner()

    @rpc(expected_exceptions=ScsError)
    def usage(
        self, project_id: str, since: str | None = None, until: str | None = None
    ) -> dict[str, Any]:
        """usage("p1", "2026-12-01T00:00:00+00:00", "2026-12-02T00:00:00+00:00")
        -> {"project_id": "p1", "since": "...", "until": "...",
            "cpu_core_seconds": {"requested": 3600.0, "overhead": 900.0},
            "memory_gib_seconds": {"requested": ..., "overhead": ...},
            "gpu_seconds": {"tesla-t4": 7200.0}, "storage_gib_seconds": {"capacity": ...},
            "gpu_allocation_seconds": {"tesla-t4": 7200.0}}
        Defaults: the 30 days up to now; `until` is clipped to now. Raises InvalidPeriod.
        """
        period = load_period(
            {"project_id": project_id, "since": since, "until": until}, datetime.now(UTC)
        )
        with self.db.transaction() as session:
            sums = usage.totals(session, project_id, period["since"], period["until"])
        return {**_period(project_id, period), **usage.report(sums)}

    @rpc(expected_exceptions=ScsError)
    def usage_all(self, since: str | None = None, until: str | None = None) -> dict[str, Any]:
        """Every project with usage in the period: {"since", "until", "projects": [usage]}."""
        period = load_period({"since": since, "until": until}, datetime.now(UTC))
        items = []
        with self.db.transaction() as session:
            for project_id in usage.projects_with_usage(session, period["since"], period["until"]):
                sums = usage.totals(session, project_id, period["since"], period["until"])
                items.append({**_period(project_id, period), **usage.report(sums)})
        return {**_period(None, period), "projects": items}

    @rpc(expected_exceptions=ScsError)
    def cost_report(
        self, project_id: str, since: str | None = None, until: str | None = None
    ) -> dict[str, Any]:
        """cost_report("p1") -> {"project_id", "since", "until", "currency": "EUR",
        "lines": [{"metric": "cpu_core_seconds", "quantity": "3600.000000",
        "price": "0.00001", "amount": "0.036000"}, ...], "total": "0.052000"}"""
        period = load_period(
            {"project_id": project_id, "since": since, "until": until}, datetime.now(UTC)
        )
        with self.db.transaction() as session:
            sums = usage.totals(session, project_id, period["since"], period["until"])
            currency, prices = rates.current(session)
        report = rates.cost_lines(usage.quantities(sums), prices)
        logger.info("cost report of project %s: %s %s", project_id, report["total"], currency)
        return {**_period(project_id, period), "currency": currency, **report}

    @rpc(expected_exceptions=ScsError)
    def get_rates(self) -> dict[str, Any]:
        """get_rates() -> {"currency": "EUR", "rates": {"cpu_core_seconds": "0.00001", ...}}"""
        with self.db.transaction() as session:
            return rates.as_dict(*rates.current(session))

    @rpc(expected_exceptions=ScsError)
    def set_rates(self, new_rates: dict[str, Any]) -> dict[str, Any]:
        """set_rates({"gpu_seconds.tesla-t4": "0.0004"}) -> get_rates(); raises InvalidRate."""
        loaded = load_rates(new_rates)
        with self.db.transaction() as session:
            rates.set_rates(session, loaded)
            return rates.as_dict(*rates.current(session))


def _period(project_id: str | None, period: dict[str, Any]) -> dict[str, Any]:
    answer = {"since": period["since"].isoformat(), "until": period["until"].isoformat()}
    return {"project_id": project_id, **answer} if project_id is not None else answer
