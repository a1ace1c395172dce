"""HTTP calls to the gateway: one JSON request, one answer or one CliError."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import requests

from cli.errors import EXIT_NOT_LOGGED_IN, EXIT_UNAVAILABLE, CliError, from_answer

logger = logging.getLogger(__name__)

API = "/api/v1"
TIMEOUT_S = 60


def api_path(*segments: object) -> str:
    """`/a/b/c` below /api/v1, each segment percent-encoded whole (`safe=""`): a name with
    `/`, `?`, `#` or `%` in it stays one segment and never becomes a path or a query."""
    return "".join(f"/{quote(str(segment), safe='')}" for segment in segments)


class Gateway:
    """The gateway at `server`, called with `token` (None before a login)."""

    def __init__(
        self, server: str, token: str | None, session: requests.Session | None = None
    ) -> None:
        self.server = server
        self.token = token
        self.session = session or requests.Session()

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        params: dict[str, Any] | None = None,
        public: bool = False,
    ) -> Any:
        if not public and not self.token:
            raise CliError(
                EXIT_NOT_LOGGED_IN, "not_logged_in", "not logged in: run `scs login` first"
            )
        headers = {"X-Request-Id": uuid.uuid4().hex, "Accept": "application/json"}
        if self.token and not public:
            headers["Authorization"] = f"Bearer {self.token}"
        query = {k: v for k, v in (params or {}).items() if v is not None}
        logger.debug("%s %s %s", method, path, query)
        try:
            response = self.session.request(
                method,
                f"{self.server}{API}{path}",
                json=body,
                params=query,
                headers=headers,
                timeout=TIMEOUT_S,
            )
        except requests.RequestException as exc:
            raise CliError(
                EXIT_UNAVAILABLE, "unreachable", f"cannot reach {self.server}: {_reason(exc)}"
            ) from exc
        return _answer(response)

    def get(self, path: str, **params: Any) -> Any:
        return self.call("GET", path, params=params)

    def stream(self, path: str, **params: Any) -> Iterator[str]:
        """A streamed text answer, chunk by chunk as the gateway writes it (`logs -f`)."""
        if not self.token:
            raise CliError(
                EXIT_NOT_LOGGED_IN, "not_logged_in", "not logged in: run `scs login` first"
            )
        headers = {"X-Request-Id": uuid.uuid4().hex, "Authorization": f"Bearer {self.token}"}
        query = {k: v for k, v in params.items() if v is not None}
        try:
            response = self.session.get(
                f"{self.server}{API}{path}",
                params=query,
                headers=headers,
                stream=True,
                timeout=(TIMEOUT_S, None),  # a quiet log may stay silent for long
            )
        except requests.RequestException as exc:
            raise CliError(
                EXIT_UNAVAILABLE, "unreachable", f"cannot reach {self.server}: {_reason(exc)}"
            ) from exc
        with response:
            if response.status_code >= 400:
                _answer(response)
            yield from response.iter_content(chunk_size=None, decode_unicode=True)


def _answer(response: requests.Response) -> Any:
    try:
        body = response.json()
    except ValueError:
        body = response.text
    if response.status_code >= 400:
        raise from_answer(response.status_code, body)
    return body


def _reason(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.ConnectionError):
        return "connection refused or no route"
    if isinstance(exc, requests.Timeout):
        return f"no answer within {TIMEOUT_S}s"
    return type(exc).__name__
