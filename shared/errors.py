"""Error base classes with a stable code and HTTP status, typed across RPC.

Every service defines its errors as subclasses of `ScsError`. The `registered` decorator puts
the class in nameko's exception registry, so a caller of an RPC method receives the same type
(with its code, message and details) rather than a generic RemoteError. The gateway turns any
`ScsError` into `{code, message, details}` with `http_status`.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

from nameko.exceptions import deserialize_to_instance

E = TypeVar("E", bound=type)


def registered(cls: E) -> E:
    """Register an error class with nameko so it crosses RPC with its own type."""
    return deserialize_to_instance(cls)  # type: ignore[no-any-return]


@registered
class ScsError(Exception):
    """Base of every error the suite raises on purpose.

    The constructor arguments are what nameko serialises, so they stay plain JSON values.
    """

    code: ClassVar[str] = "internal_error"
    http_status: ClassVar[int] = 500

    def __init__(self, message: str = "", details: dict[str, Any] | None = None) -> None:
        super().__init__(message, details or {})
        self.message = message or self.code.replace("_", " ")
        self.details = details or {}

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


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
class NotImplementedYet(ScsError):
    """An API the permission matrix already names but whose service is not built yet."""

    code = "not_implemented"
    http_status = 501


@registered
class Unavailable(ScsError):
    """A dependency (broker, database, cluster) did not answer; retrying may help."""

    code = "unavailable"
    http_status = 503
