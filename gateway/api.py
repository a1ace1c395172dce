"""The gateway's HTTP entrypoint and the `route` decorator every endpoint is declared with.

`route` records the endpoint in `ROUTES` (the OpenAPI document is generated from it) and wraps
the handler in the request pipeline, in this order:

1. request id: `X-Request-Id` from the client (if sane) or a new one; echoed on every answer;
2. body: at most SCS_MAX_BODY_BYTES, valid JSON, an object;
3. authentication: `Authorization: Bearer <token>` checked by the auth service;
4. authorisation: the route's (area, action) cell of the permission matrix, for the project
   named in the path (or cluster-wide), decided by the auth service — before validation, so
   a caller without the right learns nothing about the input's shape;
5. validation: body and query string against the route's schemas (unknown fields refused);
6. the handler, which calls the owning service and returns a JSON-ready value.

Errors at any step become `{code, message, details}` through gateway/errors.py. The 401s and
403s of steps 3-4, and a service's refusal of an attempt to break isolation in step 6 (422,
`gateway.denials.REFUSED_CODES`), also go to the audit trail as `access.denied`.
"""

from __future__ import annotations

import base64
import functools
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema
from nameko.extensions import DependencyProvider
from nameko.web.handlers import HttpRequestHandler
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from gateway.denials import REFUSED_CODES, denial_event
from gateway.errors import ApiError, error_response, json_response
from gateway.server import ApiWebServer, request_id_of
from shared.config import Settings
from shared.errors import Forbidden, ScsError, Unauthenticated
from shared.logging import request_id_var
from shared.schemas import load

logger = logging.getLogger(__name__)


@dataclass
class Route:
    method: str
    path: str
    summary: str
    tag: str
    area: str | None = None
    action: str | None = None
    body: Schema | None = None
    query: Schema | None = None
    response: Schema | None = None
    status: int = 200
    public: bool = False
    scope_from_body: str | None = None  # body field naming the department of the action


ROUTES: list[Route] = []


@dataclass
class ApiCall:
    """What a handler receives: the validated request and who makes it."""

    request: Request
    request_id: str
    path: dict[str, Any]
    principal: dict[str, Any] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    # The strongest role that granted the route's action (auth's `authorize` answer).
    role: str | None = None

    @property
    def user_id(self) -> str:
        return str(self.principal["user_id"])


class ApiEntrypoint(HttpRequestHandler):
    """nameko's HTTP entrypoint with a request id and JSON errors on every path.

    The suite's own errors are expected answers (4xx): nameko logs them as warnings. Requests
    that match no route are answered by the server (gateway/server.py), in JSON too.
    """

    server = ApiWebServer()

    def __init__(self, method: str, url: str, **kwargs: Any) -> None:
        kwargs.setdefault("expected_exceptions", (ScsError,))
        super().__init__(method, url, **kwargs)

    def handle_request(self, request: Request) -> Response:
        request_id = request_id_of(request)
        request.environ["scs.request_id"] = request_id
        request_id_var.set(request_id)
        try:
            return super().handle_request(request)  # type: ignore[no-any-return]
        except Exception as exc:  # super() already answers; this guards our own code
            return error_response(exc, request_id)

    def get_entrypoint_parameters(self, request: Request) -> tuple[tuple, dict]:
        return (request,), dict(request.path_values)  # type: ignore[attr-defined]

    def response_from_exception(self, exc: BaseException) -> Response:
        request_id = request_id_var.get()
        return error_response(exc, request_id)


api_http = ApiEntrypoint.decorator


class WebSocketEntrypoint(ApiEntrypoint):
    """The same endpoint for WebSocket handshakes, which werkzeug routes apart from HTTP."""

    def get_url_rule(self) -> Rule:
        return Rule(self.url, methods=self.method.split(","), websocket=True)


api_websocket = WebSocketEntrypoint.decorator


class CallContext(DependencyProvider):
    """Lets a handler add the caller's identity to the context data sent with each RPC."""

    class _Handle:
        def __init__(self, worker_ctx: Any) -> None:
            self.worker_ctx = worker_ctx

        def set(self, **values: str) -> None:
            self.worker_ctx.data.update(values)

    def get_dependency(self, worker_ctx: Any) -> _Handle:
        return self._Handle(worker_ctx)


MAX_JSON_DEPTH = 64


def _too_large(max_bytes: int) -> ApiError:
    return ApiError(
        413,
        "payload_too_large",
        f"the body is larger than {max_bytes} bytes",
        {"location": "body", "max_bytes": max_bytes},
    )


def _malformed(message: str) -> ApiError:
    return ApiError(400, "malformed_json", message, {"location": "body"})


def _refuse_constant(name: str) -> Any:
    # Python's reader takes NaN and Infinity, which RFC 8259 JSON has no place for.
    raise ValueError(f"{name} is not a JSON value; numbers must be finite")


def _read_json(request: Request, max_bytes: int) -> Any:
    length = request.content_length
    if length is not None and length > max_bytes:
        raise _too_large(max_bytes)
    if length is None and "chunked" in request.headers.get("Transfer-Encoding", "").lower():
        # werkzeug's stream ends at Content-Length; eventlet's input decodes chunked bodies.
        raw = request.environ["wsgi.input"].read(max_bytes + 1)
    else:
        raw = request.stream.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise _too_large(max_bytes)
    if not raw.strip():
        return None
    try:
        body = json.loads(raw, parse_constant=_refuse_constant)
    except RecursionError as exc:
        raise _malformed(f"the body nests deeper than {MAX_JSON_DEPTH} levels") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise _malformed(f"the body is not valid JSON: {exc}") from exc
    _check_json(body)
    return body


def _check_json(body: Any) -> None:
    """Refuse what parses as JSON but no service can store: deep nesting, bad text."""
    stack: list[tuple[Any, int]] = [(body, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise _malformed(f"the body nests deeper than {MAX_JSON_DEPTH} levels")
        if isinstance(value, str):
            _check_text(value)
        elif isinstance(value, dict):
            for key, item in value.items():
                _check_text(key)
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)


def _check_text(text: str) -> None:
    if "\x00" in text:
        raise _malformed("strings in the body may not contain NUL characters")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise _malformed("the body holds a string that is not valid Unicode") from exc


# Browsers cannot set headers on a WebSocket: as Kubernetes does, the token may come as one of
# the offered subprotocols, `base64url.bearer.authorization.scs.io.<token, base64url>`, next to
# the terminal's own (gateway/terminal.py); the answer names only the terminal's.
TOKEN_PROTOCOL_PREFIX = "base64url.bearer.authorization.scs.io."


def _protocol_token(request: Request) -> str | None:
    if request.headers.get("Upgrade", "").lower() != "websocket":
        return None
    for offered in request.headers.get("Sec-WebSocket-Protocol", "").split(","):
        encoded = offered.strip()
        if not encoded.startswith(TOKEN_PROTOCOL_PREFIX):
            continue
        encoded = encoded[len(TOKEN_PROTOCOL_PREFIX) :]
        try:
            token = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
        except (ValueError, UnicodeDecodeError) as exc:
            raise Unauthenticated(
                "the token subprotocol is not base64url text",
                {"header": "Sec-WebSocket-Protocol"},
            ) from exc
        return token.strip() or None
    return None


def _bearer_token(request: Request) -> str:
    header = request.headers.get("Authorization", "")
    if not header and (token := _protocol_token(request)):
        return token
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("a bearer token is required", {"header": "Authorization"})
    return token.strip()


def route(
    method: str,
    path: str,
    *,
    summary: str,
    tag: str,
    area: str | None = None,
    action: str | None = None,
    body: Schema | None = None,
    query: Schema | None = None,
    response: Schema | None = None,
    status: int = 200,
    public: bool = False,
    scope_from_body: str | None = None,
    websocket: bool = False,
) -> Callable[[Callable[..., Any]], Any]:
    """Declare an endpoint; see the module docstring for the pipeline it runs.

    `websocket=True` also routes WebSocket handshakes to it (the handler answers the upgrade).
    """
    spec = Route(
        method,
        path,
        summary,
        tag,
        area,
        action,
        body,
        query,
        response,
        status,
        public,
        scope_from_body,
    )
    ROUTES.append(spec)
    max_bytes = Settings.from_env().max_body_bytes

    def decorator(handler: Callable[..., Any]) -> Any:
        @functools.wraps(handler)
        def endpoint(self: Any, request: Request, **path_values: Any) -> Response:
            request_id = request.environ.get("scs.request_id") or uuid.uuid4().hex
            self.call_context.set(request_id=request_id)
            call = ApiCall(request=request, request_id=request_id, path=path_values)

            try:
                raw_body = _authenticate_and_authorise(self, spec, call, max_bytes)
            except (Unauthenticated, Forbidden) as exc:
                _record_denial(self, spec, call, exc)
                raise
            if spec.body is not None:
                call.body = load(spec.body, raw_body, location="body")
            if spec.query is not None:
                call.query = load(spec.query, request.args.to_dict(), location="query")

            try:
                result = handler(self, call)
            except ScsError as exc:
                if exc.code in REFUSED_CODES:
                    _record_denial(self, spec, call, exc)
                raise
            logger.debug("%s %s -> %s", spec.method, request.path, spec.status)
            if isinstance(result, Response):  # a streamed answer (exports)
                result.headers["X-Request-Id"] = request_id
                return result
            return json_response(spec.status, result, request_id)

        entry = api_http(method, path)(endpoint)
        return api_websocket(method, path)(entry) if websocket else entry

    return decorator


def _authenticate_and_authorise(self: Any, spec: Route, call: ApiCall, max_bytes: int) -> Any:
    """Steps 2-4 of the pipeline; answers the raw body (read before authorising, since a
    route may take its department from it)."""
    if not spec.public:
        call.principal = self.auth.authenticate(_bearer_token(call.request))
        self.call_context.set(actor=call.user_id)
    raw_body = _read_json(call.request, max_bytes) if spec.body is not None else None
    if spec.area is not None:
        # Authorise before validating: a caller without the right learns nothing about the
        # shape of the input.
        department_id = None
        if spec.scope_from_body and isinstance(raw_body, dict):
            department_id = raw_body.get(spec.scope_from_body)
        answer = self.auth.authorize(
            call.user_id,
            spec.area,
            spec.action,
            project_id=call.path.get("project_id"),
            department_id=department_id if isinstance(department_id, str) else None,
        )
        call.role = answer.get("role") if isinstance(answer, dict) else None
    return raw_body


def _namespace(call: ApiCall) -> str | None:
    """The namespace the request names: in the body when creating, else in the query."""
    for source in (call.body, call.query, call.path):
        value = source.get("namespace")
        if isinstance(value, str):
            return value
    return None


def _record_denial(self: Any, spec: Route, call: ApiCall, exc: Exception) -> None:
    """Hand a refused authentication or authorisation, or a service's refusal of an attempt
    to break isolation, to the audit trail (never raises)."""
    recorder = getattr(self, "denials", None)
    if recorder is None:
        return
    refused = exc.details if isinstance(exc, ScsError) and exc.code in REFUSED_CODES else None
    try:
        recorder.record(
            denial_event(
                method=call.request.method,
                path=call.request.path,
                area=spec.area,
                action=spec.action,
                source=call.request.remote_addr,
                request_id=call.request_id,
                reason=getattr(exc, "code", type(exc).__name__),
                actor=str(call.principal["user_id"]) if call.principal else None,
                project_id=call.path.get("project_id"),
                namespace=_namespace(call),
                refusal=refused,
                status=int(getattr(exc, "http_status", 422)),
            )
        )
    except Exception:  # the audit trail must never turn a 401/403/422 into a 500
        logger.exception("could not record a denied request")
