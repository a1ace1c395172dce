"""Errors of the network service; each is registered so RPC callers receive it typed.

Details, code and status cross RPC through ScsError's own serialisation (shared/errors.py).
"""

from __future__ import annotations

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
    """Base of the network service's errors (details keep their JSON types: see ScsError)."""


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
class IngressHostTaken(NetworkError, Conflict):
    """Another project's Ingress already serves this host name."""

    code = "ingress_host_taken"


@registered
class ClusterUnavailable(NetworkError, Unavailable):
    """The cluster did not answer or answered 5xx; retrying may help."""

    code = "cluster_unavailable"


@registered
class ClusterRefused(NetworkError, ValidationFailed):
    """The cluster refused the object (its own validation); details carry its reason."""

    code = "cluster_refused"
