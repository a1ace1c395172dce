"""Errors of the quota service; each is registered so RPC callers receive it typed.

Every class keeps `ScsError`'s constructor (message, details), which is what nameko
serialises and calls again on the caller's side.
"""

from __future__ import annotations

from typing import Any

from shared.errors import (
    Conflict,
    NotFound,
    ScsError,
    Unavailable,
    Unprocessable,
    ValidationFailed,
    registered,
)


@registered
class QuotaError(ScsError):
    """Base of the quota service's errors (details keep their JSON types: see ScsError)."""


@registered
class QuotaExceeded(QuotaError, Unprocessable):
    """The reservation would take a resource over its limit.

    details: {resource: {"limit", "used", "requested", "overhead"}} for every resource that
    does not fit; `used` counts committed and unexpired reserved usage before this request.
    """

    code = "quota_exceeded"

    @classmethod
    def for_resources(cls, project_id: str, excess: dict[str, dict[str, Any]]) -> QuotaExceeded:
        names = ", ".join(sorted(excess))
        return cls(f"quota exceeded in project {project_id}: {names}", excess)


@registered
class ReservationConflict(QuotaError, Conflict):
    """An idempotency key was reused with other items or for another project."""

    code = "reservation_conflict"


@registered
class ReservationNotActive(QuotaError, Conflict):
    """Commit of a reservation that was released or has expired."""

    code = "reservation_not_active"


@registered
class ReservationNotFound(QuotaError, NotFound):
    code = "reservation_not_found"


@registered
class UnknownResource(QuotaError, ValidationFailed):
    """A resource name outside cpu, memory, gpu, storage.<class>, count.<kind>."""

    code = "unknown_resource"


@registered
class ClusterUnavailable(QuotaError, Unavailable):
    """The Kubernetes API did not answer (or answered 429/5xx) while mirroring limits."""

    code = "cluster_unavailable"


@registered
class ClusterRejected(QuotaError, Unprocessable):
    """The Kubernetes API refused a ResourceQuota (or the namespace is gone)."""

    code = "cluster_rejected"
