"""GatewayService: the HTTP API under /api/v1.

Endpoints live in gateway/routes/, one mixin per area; this class combines them and declares
the RPC proxies they use. Handlers are thin: the pipeline in gateway/api.py has already
authenticated, authorised and validated; a handler calls the owning service and returns its
answer.
"""

from __future__ import annotations

import json

from nameko.rpc import RpcProxy
from werkzeug.wrappers import Request, Response

from gateway.api import CallContext, api_http
from gateway.denials import DenialRecorder
from gateway.errors import json_response
from gateway.log_stream import LogStreams
from gateway.openapi import openapi_document
from gateway.routes.audit import AuditRoutes
from gateway.routes.billing import BillingRoutes
from gateway.routes.cluster import ClusterRoutes
from gateway.routes.config import ConfigRoutes
from gateway.routes.gpu import GpuRoutes
from gateway.routes.network import NetworkRoutes
from gateway.routes.planned import PlannedRoutes
from gateway.routes.quota import QuotaRoutes
from gateway.routes.storage import StorageRoutes
from gateway.routes.tenancy import TenancyRoutes
from gateway.routes.workloads import WorkloadRoutes

# Services /readyz asks; each answers the `health` RPC.
BACKING_SERVICES = (
    "auth",
    "quota",
    "gpu",
    "cluster",
    "config",
    "audit",
    "billing",
    "workload",
    "network",
    "storage",
)


class GatewayService(
    TenancyRoutes,
    QuotaRoutes,
    GpuRoutes,
    ClusterRoutes,
    ConfigRoutes,
    AuditRoutes,
    BillingRoutes,
    WorkloadRoutes,
    NetworkRoutes,
    StorageRoutes,
    PlannedRoutes,
):
    name = "gateway"

    auth = RpcProxy("auth")
    quota = RpcProxy("quota")
    gpu = RpcProxy("gpu")
    cluster = RpcProxy("cluster")
    config = RpcProxy("config")
    audit = RpcProxy("audit")
    billing = RpcProxy("billing")
    workload = RpcProxy("workload")
    network = RpcProxy("network")
    storage = RpcProxy("storage")
    call_context = CallContext()
    denials = DenialRecorder()
    log_streams = LogStreams()

    @api_http("GET", "/healthz")
    def healthz(self, request: Request) -> Response:
        """Liveness: the gateway process answers."""
        return json_response(200, {"status": "ok"}, request.environ["scs.request_id"])

    @api_http("GET", "/readyz")
    def readyz(self, request: Request) -> Response:
        """Readiness: every backing service answers an RPC."""
        checks: dict[str, str] = {}
        for name in BACKING_SERVICES:
            try:
                getattr(self, name).health()
                checks[name] = "ok"
            except Exception as exc:  # reported in the answer, not raised
                checks[name] = f"unavailable: {type(exc).__name__}"
        ready = all(value == "ok" for value in checks.values())
        return json_response(
            200 if ready else 503,
            {"status": "ready" if ready else "not_ready", "checks": checks},
            request.environ["scs.request_id"],
        )

    @api_http("GET", "/api/v1/openapi.json")
    def openapi(self, request: Request) -> Response:
        return Response(json.dumps(openapi_document()), mimetype="application/json")
