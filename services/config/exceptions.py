"""Errors of the config service; each is registered so RPC callers receive it typed.

Details travel as one JSON string (nameko stringifies non-string error arguments) and are
decoded on arrival. No error message or detail ever carries a Secret's value.
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
class ConfigError(ScsError):
    """Base of the config service's errors."""


@registered
class ClusterUnavailable(ConfigError, Unavailable):
    code = "cluster_unavailable"


@registered
class ClusterRejected(ConfigError, Unprocessable):
    code = "cluster_rejected"


@registered
class ConfigNotFound(ConfigError, NotFound):
    code = "config_not_found"


@registered
class ConfigExists(ConfigError, Conflict):
    code = "config_exists"


@registered
class InvalidConfig(ConfigError, ValidationFailed):
    """Bad input; details = {"location", "fields": {name: [messages]}} (never a value)."""


@registered
class NamespaceNotInProject(ConfigError, Forbidden):
    code = "namespace_not_in_project"


@registered
class NotOwnedKind(ConfigError, Unprocessable):
    """apply_manifest/delete_object got a kind another service owns."""

    code = "kind_not_owned"


def invalid(field: str, message: str, location: str = "body") -> InvalidConfig:
    return InvalidConfig(
        f"invalid {location}: {field}", {"location": location, "fields": {field: [message]}}
    )
