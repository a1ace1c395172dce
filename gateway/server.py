"""The gateway's HTTP server: nameko's, with JSON for what it would answer in HTML itself.

nameko's WSGI app lets werkzeug answer a request that matches no route: an HTML 404, an HTML
405 (also for every OPTIONS), a 308 for a path with doubled slashes. `ApiWsgiApp` answers these
as the API's `{code, message, details}` with the request id: 404 `not_found`, 405
`method_not_allowed` with `Allow`, and OPTIONS on a known path 204 with `Allow` (no CORS: the
API is called by scripts and the CLI, not by browsers of other origins).

`ApiEntrypoint` (gateway/api.py) declares `ApiWebServer` as its server, so every route of the
gateway is served by it.
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

from nameko.web.server import WebServer, WsgiApp
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.routing import RequestRedirect
from werkzeug.wrappers import Request, Response

from gateway.errors import ApiError, error_response

logger = logging.getLogger(__name__)

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# A path is the caller's input: it is clipped before it is echoed.
MAX_ECHOED_PATH = 256


def request_id_of(request: Request) -> str:
    """`X-Request-Id` from the client if sane, else a new one."""
    request_id = request.headers.get("X-Request-Id", "")
    return request_id if _REQUEST_ID.match(request_id) else uuid.uuid4().hex


class ApiWsgiApp(WsgiApp):  # type: ignore[misc]
    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        # Shallow, as nameko's: nothing may read the body before a WebSocket upgrade.
        request = Request(environ, shallow=True)
        adapter = self.url_map.bind_to_environ(environ)
        try:
            provider, values = adapter.match()
        except HTTPException as exc:
            response = unrouted_response(request, exc)
        else:
            request.path_values = values  # type: ignore[attr-defined]
            response = provider.handle_request(request)
        return response(environ, start_response)


class ApiWebServer(WebServer):  # type: ignore[misc]
    def get_wsgi_app(self) -> ApiWsgiApp:
        return ApiWsgiApp(self)


def unrouted_response(request: Request, exc: HTTPException) -> Response:
    """The answer to a request no route takes, from werkzeug's routing exception."""
    request_id = request_id_of(request)
    path = request.path[:MAX_ECHOED_PATH]
    if isinstance(exc, MethodNotAllowed):
        allowed = sorted({*(exc.valid_methods or ()), "OPTIONS"})
        if request.method == "OPTIONS":
            return Response(
                status=204, headers={"Allow": ", ".join(allowed), "X-Request-Id": request_id}
            )
        error = ApiError(
            405,
            "method_not_allowed",
            f"{request.method} is not allowed on {path}",
            {"method": request.method, "path": path, "allowed": allowed},
        )
        response = error_response(error, request_id)
        response.headers["Allow"] = ", ".join(allowed)
        return response

    if isinstance(exc, RequestRedirect):
        error = ApiError(
            exc.code or 308,
            "moved_permanently",
            f"the endpoint is at {exc.new_url}",
            {"path": path, "location": exc.new_url},
        )
        response = error_response(error, request_id)
        response.headers["Location"] = exc.new_url
        return response

    status = exc.code or 400
    code = "not_found" if status == 404 else _snake(exc.name)
    message = f"no endpoint {request.method} {path}" if status == 404 else exc.name.lower()
    return error_response(ApiError(status, code, message, {"path": path}), request_id)


def _snake(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "bad_request"
