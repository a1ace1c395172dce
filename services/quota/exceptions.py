"""Errors of the quota service; each is registered so RPC callers receive it typed.

Every class keeps `ScsError`'s constructor (message, details), which is what nameko
serialises and calls again on the caller's side.
"""

from __future__ import annotations

from collections.abc import Callable
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
from shared.quantity import human_bytes, human_cores


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
        """One line a person can act on: per resource, what was asked, used and the limit."""
        parts = "; ".join(_shortfall(name, excess[name]) for name in sorted(excess))
        return cls(f"quota exceeded: {parts}", excess)


def _shortfall(resource: str, item: dict[str, Any]) -> str:
    """`cpu: asked 700m, 11.5 of 12 cores in use` (memory and storage in Ki/Mi/Gi)."""
    asked = int(item.get("requested") or 0) + int(item.get("overhead") or 0)
    used, limit = int(item.get("used") or 0), item.get("limit")
    amount: Callable[[int], str]
    if resource == "cpu":
        wanted = f"{asked}m" if asked < 1000 else f"{human_cores(asked)} cores"
        amount, unit = human_cores, " cores"
    elif resource == "memory" or resource.startswith("storage."):
        wanted, amount, unit = human_bytes(asked), human_bytes, ""
    else:  # gpu and object counts
        wanted, amount, unit = str(asked), str, ""
    if limit is None:
        return f"{resource}: asked {wanted}, {amount(used)}{unit} in use (no limit set)"
    return f"{resource}: asked {wanted}, {amount(used)} of {amount(int(limit))}{unit} in use"


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
