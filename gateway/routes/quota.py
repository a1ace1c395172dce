"""Project quota: limits and usage (quota service)."""

from __future__ import annotations

from typing import Any

from gateway import schemas
from gateway.api import ApiCall, route

V1 = "/api/v1"


class QuotaRoutes:
    auth: Any  # RpcProxies declared on GatewayService
    quota: Any

    # -- quota ----------------------------------------------------------------------------

    @route(
        "GET",
        f"{V1}/projects/<project_id>/quota",
        summary="Limits and usage (requested and sandbox overhead apart)",
        tag="quota",
        area="quota",
        action="view",
    )
    def get_quota(self, call: ApiCall) -> Any:
        self.auth.get_project(call.path["project_id"])  # 404 for a project that does not exist
        return self.quota.usage(call.path["project_id"])

    @route(
        "PUT",
        f"{V1}/projects/<project_id>/quota",
        summary="Set limits",
        tag="quota",
        area="quota",
        action="set_limits",
        body=schemas.SetQuotaSchema(),
    )
    def set_quota(self, call: ApiCall) -> Any:
        self.auth.get_project(call.path["project_id"])  # 404 for a project that does not exist
        return self.quota.set_limits(call.path["project_id"], call.body["limits"], call.user_id)
