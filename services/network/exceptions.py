"""Errors of the network service; each is registered so RPC callers receive it typed.

Details travel as one JSON string across RPC (nameko stringifies non-string args) and are
decoded on arrival, as in the quota service.
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
    ValidationFailed,
    registered,
)


@registered
class NetworkError(ScsError):
    def __init__(self, message: str = "", details: dict[str, Any] | str | None = None) -> None:
        if isinstance(details, str):
            details = json.loads(details)
        super().__init__(message, details)  # type: ignore[arg-type]
        self.args = (message, json.dumps(self.details))


@registered
class InvalidManifest(NetworkError, ValidationFailed):
    """A form or manifest the service cannot apply; details name the field."""

    code = "invalid_manifest"


@registered
class NamespaceNotInProject(NetworkError, Forbidden):
    """The namespace does not exist or belongs to another project."""

    code = "namespace_not_in_project"


@registered
class NetworkObjectNotFound(NetworkError, NotFound):
    code = "network_object_not_found"


@registered
class NetworkObjectExists(NetworkError, Conflict):
    code = "network_object_exists"


@registered
class ClusterUnavailable(NetworkError, Unavailable):
    """The cluster did not answer or answered 5xx; retrying may help."""

    code = "cluster_unavailable"


@registered
class ClusterRefused(NetworkError, ValidationFailed):
    """The cluster refused the object (its own validation); details carry its reason."""

    code = "cluster_refused"
