"""The one table that maps exceptions to HTTP answers.

Every `ScsError` carries its own status and code. Failures of the RPC layer become 503 (the
service is down or slow); anything else is a 500 whose body shows only the request id, so an
operator can find the traceback in the logs and a client never sees one.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from amqp.exceptions import AMQPError
from kombu.exceptions import OperationalError
from nameko.exceptions import RemoteError, UnknownService
from werkzeug.wrappers import Response

from shared.errors import ScsError

logger = logging.getLogger(__name__)

# (exception type, HTTP status, stable code, message) for errors that are not ScsError.
_RPC_FAILURES: tuple[tuple[type[BaseException], int, str, str], ...] = (
    (UnknownService, 503, "service_unavailable", "a backing service is not running"),
    (AMQPError, 503, "bus_unavailable", "the message bus refused or dropped the call"),
    (OperationalError, 503, "bus_unavailable", "the message bus cannot be reached"),
    (ConnectionError, 503, "bus_unavailable", "the message bus cannot be reached"),
)


class ApiError(ScsError):
    """An HTTP-level refusal raised by the gateway itself (malformed JSON, body too large)."""

    def __init__(self, status: int, code: str, message: str, details: dict | None = None):
        super().__init__(message, details)
        self.http_status = status  # type: ignore[misc]
        self.code = code  # type: ignore[misc]


def json_response(
    status: int, body: Any, request_id: str, headers: dict | None = None
) -> Response:
    all_headers = {"X-Request-Id": request_id, **(headers or {})}
    return Response(
        json.dumps(body, default=str),
        status=status,
        headers=all_headers,
        mimetype="application/json",
    )


def error_response(exc: BaseException, request_id: str) -> Response:
    if isinstance(exc, ScsError):
        body = exc.to_dict()
        if exc.http_status >= 500:
            body["details"] = {**body["details"], "request_id": request_id}
        if exc.http_status < 500:
            logger.warning("request refused: %s %s", exc.code, exc.message)
        return json_response(exc.http_status, body, request_id, _headers(exc))

    for exc_type, status, code, message in _RPC_FAILURES:
        if isinstance(exc, exc_type):
            logger.warning("%s: %s", code, exc)
            return json_response(
                status,
                {"code": code, "message": message, "details": {"request_id": request_id}},
                request_id,
            )

    if isinstance(exc, RemoteError):
        logger.error("a service failed: %s %s", exc.exc_type, exc.value)
    else:
        logger.error("unexpected gateway error", exc_info=exc)
    return json_response(
        500,
        {
            "code": "internal_error",
            "message": "internal error; quote the request id when reporting it",
            "details": {"request_id": request_id},
        },
        request_id,
    )


def _headers(exc: ScsError) -> dict[str, str]:
    """`Retry-After` for a refusal that says when to come back (429, 503)."""
    retry_after = exc.details.get("retry_after_seconds")
    if exc.http_status in (429, 503) and isinstance(retry_after, int) and retry_after >= 0:
        return {"Retry-After": str(retry_after)}
    return {}
