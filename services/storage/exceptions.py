"""Errors of the storage service; each is registered so RPC callers receive it typed.

Details, code and status cross RPC through ScsError's own serialisation (shared/errors.py).
"""

from __future__ import annotations

from shared.errors import (
    Conflict,
    Forbidden,
    NotFound,
    ScsError,
    Unavailable,
    Unprocessable,
    ValidationFailed,
    registered,
)


@registered
class StorageError(ScsError):
    """Base of the storage service's errors (details keep their JSON types: see ScsError)."""


@registered
class InvalidClaim(StorageError, ValidationFailed):
    """A form or manifest the service cannot apply; details name the field."""

    code = "invalid_claim"


@registered
class NamespaceNotInProject(StorageError, Forbidden):
    code = "namespace_not_in_project"


@registered
class StorageObjectNotFound(StorageError, NotFound):
    code = "storage_object_not_found"


@registered
class StorageObjectExists(StorageError, Conflict):
    code = "storage_object_exists"


@registered
class ExpansionRefused(StorageError, Unprocessable):
    """A claim cannot grow: it is not bound, its class forbids it, or it would shrink."""

    code = "expansion_refused"


@registered
class ClusterUnavailable(StorageError, Unavailable):
    code = "cluster_unavailable"


@registered
class ClusterRefused(StorageError, ValidationFailed):
    code = "cluster_refused"


@registered
class QuotaUnavailable(StorageError, Unavailable):
    """The quota service is not running; claims cannot be charged, so none is provisioned."""

    code = "quota_unavailable"
