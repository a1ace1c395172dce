"""Usage, cost reports and rates (billing service).

Project admins and department admins read their own projects' usage and costs; the cloud
admin reads every project's and sets the rates.
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields

from gateway.api import ApiCall, route
from shared.schemas import StrictSchema

V1 = "/api/v1"
P = f"{V1}/projects/<project_id>"


class PeriodQuerySchema(StrictSchema):
    since = fields.AwareDateTime()
    until = fields.AwareDateTime()


class RatesSchema(StrictSchema):
    rates = fields.Dict(keys=fields.String(), values=fields.Raw(), required=True)


def _period(call: ApiCall) -> dict[str, str | None]:
    return {
        key: call.query[key].isoformat() if key in call.query else None
        for key in ("since", "until")
    }


class BillingRoutes:
    billing: Any  # RpcProxy("billing") on GatewayService

    @route(
        "GET",
        f"{P}/billing/usage",
        summary="Usage of the project in a period (CPU, memory, GPU, storage)",
        tag="billing",
        area="billing",
        action="view",
        query=PeriodQuerySchema(),
    )
    def get_project_usage(self, call: ApiCall) -> Any:
        return self.billing.usage(call.path["project_id"], **_period(call))

    @route(
        "GET",
        f"{P}/billing/cost",
        summary="Cost report of the project in a period",
        tag="billing",
        area="billing",
        action="view",
        query=PeriodQuerySchema(),
    )
    def get_project_cost(self, call: ApiCall) -> Any:
        return self.billing.cost_report(call.path["project_id"], **_period(call))

    @route(
        "GET",
        f"{V1}/billing/usage",
        summary="Usage of every project in a period (cloud admin)",
        tag="billing",
        area="billing",
        action="view",
        query=PeriodQuerySchema(),
    )
    def get_all_usage(self, call: ApiCall) -> Any:
        return self.billing.usage_all(**_period(call))

    @route(
        "GET",
        f"{V1}/billing/rates",
        summary="Current rates",
        tag="billing",
        area="billing",
        action="view",
    )
    def get_rates(self, call: ApiCall) -> Any:
        return self.billing.get_rates()

    @route(
        "PUT",
        f"{V1}/billing/rates",
        summary="Set rates (cloud admin)",
        tag="billing",
        area="billing",
        action="set_rates",
        body=RatesSchema(),
    )
    def set_rates(self, call: ApiCall) -> Any:
        return self.billing.set_rates(call.body["rates"])
