"""Errors of the cluster service; each is registered so RPC callers receive it typed.

shared.errors.ScsError sends the details as JSON, so they keep their types across RPC.
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
class ClusterError(ScsError):
    """Base of the cluster service's errors."""


@registered
class ClusterUnavailable(ClusterError, Unavailable):
    """The Kubernetes API did not answer or answered 5xx/429; retrying may help."""

    code = "cluster_unavailable"


@registered
class ClusterRejected(ClusterError, Unprocessable):
    """The Kubernetes API refused the request (admission, quota, invalid object)."""

    code = "cluster_rejected"


@registered
class ObjectNotFound(ClusterError, NotFound):
    code = "object_not_found"


@registered
class ObjectExists(ClusterError, Conflict):
    code = "object_exists"


@registered
class InvalidInput(ClusterError, ValidationFailed):
    """Bad input; details = {"location", "fields": {name: [messages]}}."""


@registered
class ProtectedNodeMetadata(ClusterError, Unprocessable):
    """A platform label or taint of a node (architecture, GPU, Kata) may not be removed."""

    code = "protected_node_metadata"


@registered
class NamespaceNotInProject(ClusterError, Forbidden):
    """The namespace does not exist or belongs to another project."""

    code = "namespace_not_in_project"


@registered
class NamespaceNotEmpty(ClusterError, Conflict):
    """The namespace still holds workloads; deleting needs force=true."""

    code = "namespace_not_empty"


@registered
class ClusterScopedRefused(ClusterError, Forbidden):
    """Only a cloud admin may create cluster-scoped custom resources."""

    code = "cluster_scoped_refused"


def invalid(field: str, message: str, location: str = "body") -> InvalidInput:
    return InvalidInput(
        f"invalid {location}: {field}", {"location": location, "fields": {field: [message]}}
    )
