"""The gateway's HTTP server: nameko's, with JSON for what it would answer in HTML itself.

nameko's WSGI app lets werkzeug answer a request that matches no route: an HTML 404, an HTML
405 (also for every OPTIONS), a 308 for a path with doubled slashes. `ApiWsgiApp` answers these
as the API's `{code, message, details}` with the request id: 404 `not_found`, 405
`method_not_allowed` with `Allow`, and OPTIONS on a known path 204 with `Allow` (no CORS: the
API is called by scripts and the CLI, not by browsers of other origins).

Below WSGI, eventlet's HTTP protocol refuses a header line over 8 KiB or headers over 64 KiB
with an empty 400, and the standard library's parser answers its own refusals (more than 100
headers, a malformed request line) in HTML. `ApiHttpProtocol` answers them in JSON too: 431
`header_too_large` naming the header, 400 `bad_request`. Before the connection closes it reads
what the client still sends (bounded): closing a socket with unread input resets the connection,
and the client could lose the answer. A request line over 8 KiB still gets eventlet's empty 414
(it is refused before any hook runs).

`ApiEntrypoint` (gateway/api.py) declares `ApiWebServer` as its server, so every route of the
gateway is served by it.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import time
import uuid
from http import HTTPStatus
from typing import Any

from eventlet import wsgi
from nameko.web.server import HttpOnlyProtocol, WebServer, WsgiApp
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.routing import RequestRedirect
from werkzeug.wrappers import Request, Response

from gateway.errors import ApiError, error_response

logger = logging.getLogger(__name__)

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# A path is the caller's input: it is clipped before it is echoed.
MAX_ECHOED_PATH = 256
# A refused request's leftover input is read and dropped up to these bounds before closing.
DRAIN_SECONDS = 2.0
DRAIN_BYTES = 1024 * 1024
HEADER_NAME_BYTES = 80
_HEADER_NAME = re.compile(rb"^[A-Za-z0-9-]{1,64}$")


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


class ApiHttpProtocol(HttpOnlyProtocol):  # type: ignore[misc]
    """eventlet's HTTP protocol (as nameko uses it) with JSON for the refusals it makes itself."""

    def parse_request(self) -> bool:
        # eventlet reads the headers through a size-checking wrapper; watching the lines it
        # reads tells which header was too long.
        lines = (
            _LastLine(self.rfile.fp) if isinstance(self.rfile, wsgi.FileObjectForHeaders) else None
        )
        if lines is not None:
            self.rfile.fp = lines
        try:
            return bool(super().parse_request())
        except wsgi.HeaderLineTooLong:
            name = _header_name(lines.last if lines is not None else b"")
            details = {"location": "headers", "field": name, "max_bytes": wsgi.MAX_HEADER_LINE}
            what = f"the {name} header" if name else "a header line"
            message = f"{what} is longer than {wsgi.MAX_HEADER_LINE} bytes"
        except wsgi.HeadersTooLarge:
            details = {"location": "headers", "max_bytes": wsgi.MAX_TOTAL_HEADER_SIZE}
            message = f"the headers are larger than {wsgi.MAX_TOTAL_HEADER_SIZE} bytes"
        self._refuse(431, "header_too_large", message, details)
        return False

    def send_error(
        self, code: int, message: str | None = None, explain: str | None = None
    ) -> None:
        """The standard library's own refusals (bad request line, too many headers), in JSON."""
        if code == HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE:
            self._refuse(code, "header_too_large", "too many headers", {"location": "headers"})
            return
        phrase = _phrase(code)
        self._refuse(code, _snake(phrase), (message or phrase)[:200], {})

    def _refuse(self, status: int, code: str, message: str, details: dict[str, Any]) -> None:
        logger.warning("request refused: %s %s", code, message)
        body = json.dumps({"code": code, "message": message, "details": details}).encode()
        head = (
            f"HTTP/1.1 {status} {_phrase(status)}\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n"
            f"X-Request-Id: {uuid.uuid4().hex}\r\n"
            "Connection: close\r\n\r\n"
        )
        self.close_connection = True
        try:
            self.wfile.write(head.encode("latin-1") + body)
            self.wfile.flush()
        except OSError:
            return
        self._drain()

    def _drain(self) -> None:
        """Read and drop what the client still sends, until it closes or a bound is reached."""
        try:
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(DRAIN_SECONDS)
            deadline, left = time.monotonic() + DRAIN_SECONDS, DRAIN_BYTES
            while left > 0 and time.monotonic() < deadline:
                chunk = self.connection.recv(min(65536, left))
                if not chunk:
                    return
                left -= len(chunk)
        except OSError:
            return


class _LastLine:
    """A reader that remembers the start of the last line read through it."""

    def __init__(self, reader: Any) -> None:
        self.reader, self.last = reader, b""

    def readline(self, size: int = -1) -> bytes:
        line: bytes = self.reader.readline(size)
        self.last = line[:HEADER_NAME_BYTES]
        return line


class ApiWebServer(WebServer):  # type: ignore[misc]
    def get_wsgi_app(self) -> ApiWsgiApp:
        return ApiWsgiApp(self)

    def get_wsgi_server(
        self, sock: Any, wsgi_app: Any, protocol: Any = ApiHttpProtocol, debug: bool = False
    ) -> Any:
        return super().get_wsgi_server(sock, wsgi_app, protocol=protocol, debug=debug)


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


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Bad Request"


def _header_name(line: bytes) -> str | None:
    """The name of the header a line starts, if it looks like one (it is echoed)."""
    name, colon, _ = line.partition(b":")
    if colon and _HEADER_NAME.match(name):
        return name.decode("ascii")
    return None
