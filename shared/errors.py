"""Error base classes with a stable code and HTTP status, typed across RPC.

Every service defines its errors as subclasses of `ScsError`. The `registered` decorator puts
the class in nameko's exception registry, so a caller of an RPC method receives the same type
(with its code, message and details) rather than a generic RemoteError. The gateway turns any
`ScsError` into `{code, message, details}` with `http_status`.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar, TypeVar

import nameko.exceptions
from nameko.exceptions import deserialize_to_instance

E = TypeVar("E", bound=type)


def registered(cls: E) -> E:
    """Register an error class with nameko so it crosses RPC with its own type."""
    return deserialize_to_instance(cls)  # type: ignore[no-any-return]


@registered
class ScsError(Exception):
    """Base of every error the suite raises on purpose.

    nameko sends an exception's `args` and turns every non-string leaf into a string, so the
    args are (message, details as JSON, code, HTTP status): plain strings and an int that a
    receiving process can rebuild exactly, even one that does not know the concrete class.
    """

    code: ClassVar[str] = "internal_error"
    http_status: ClassVar[int] = 500

    def __init__(
        self,
        message: str = "",
        details: dict[str, Any] | str | None = None,
        code: str | None = None,
        http_status: int | str | None = None,
    ) -> None:
        if isinstance(details, str):
            try:
                details = json.loads(details)
            except ValueError:
                details = {"detail": details}
        self.details: dict[str, Any] = details if isinstance(details, dict) else {}
        self.message = message or self.code.replace("_", " ")
        super().__init__(
            self.message, json.dumps(self.details, default=str), self.code, self.http_status
        )

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class RemoteScsError(ScsError):
    """An ScsError whose concrete class this process does not import (e.g. in the gateway).

    Rebuilt from the serialised args, so its code, status and details are the original's.
    """

    def __init__(
        self,
        message: str = "",
        details: dict[str, Any] | str | None = None,
        code: str | None = None,
        http_status: int | str | None = None,
    ) -> None:
        self.code = code or ScsError.code  # type: ignore[misc]
        try:
            self.http_status = int(http_status or ScsError.http_status)  # type: ignore[misc]
        except ValueError:
            self.http_status = ScsError.http_status  # type: ignore[misc]
        super().__init__(message, details)


class _SuiteErrorRegistry(dict):  # type: ignore[type-arg]
    """nameko's exception registry, answering for every error class of the suite's services.

    A class registered in this process deserialises to itself; an unknown one from a module
    under `services.` deserialises to RemoteScsError instead of nameko's bare RemoteError.
    """

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self, key) or (
            isinstance(key, str) and key.startswith("services.")
        )

    def __getitem__(self, key: str) -> Any:
        if dict.__contains__(self, key):
            return dict.__getitem__(self, key)
        return RemoteScsError


if not isinstance(nameko.exceptions.registry, _SuiteErrorRegistry):
    nameko.exceptions.registry = _SuiteErrorRegistry(nameko.exceptions.registry)


@registered
class ValidationFailed(ScsError):
    """Input did not match its schema; details map each field to its messages."""

    code = "validation_failed"
    http_status = 400


@registered
class Unauthenticated(ScsError):
    code = "unauthenticated"
    http_status = 401


@registered
class Forbidden(ScsError):
    code = "forbidden"
    http_status = 403


@registered
class NotFound(ScsError):
    code = "not_found"
    http_status = 404


@registered
class Conflict(ScsError):
    code = "conflict"
    http_status = 409


@registered
class Unprocessable(ScsError):
    """Well-formed input that the platform refuses (policy, quota, isolation)."""

    code = "unprocessable"
    http_status = 422


@registered
class TooManyRequests(ScsError):
    """Refused for now; `details.retry_after_seconds` says when to try again (Retry-After)."""

    code = "too_many_requests"
    http_status = 429


@registered
class NotImplementedYet(ScsError):
    """An API the permission matrix already names but whose service is not built yet."""

    code = "not_implemented"
    http_status = 501


@registered
class Unavailable(ScsError):
    """A dependency (broker, database, cluster) did not answer; retrying may help."""

    code = "unavailable"
    http_status = 503
