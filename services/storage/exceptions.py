"""Errors of the storage service; each is registered so RPC callers receive it typed.

Details travel as one JSON string across RPC (nameko stringifies non-string args).
"""

from __future__ import annotations

import json
from typing import Any

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
    def __init__(self, message: str = "", details: dict[str, Any] | str | None = None) -> None:
        if isinstance(details, str):
            details = json.loads(details)
        super().__init__(message, details)  # type: ignore[arg-type]
        self.args = (message, json.dumps(self.details))


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
