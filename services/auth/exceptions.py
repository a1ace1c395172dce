"""Errors of the auth service, each with a stable code, typed across RPC.

Every class is registered with nameko (`shared.errors.registered`), so a caller receives, say,
`InvalidCredentials` itself rather than a generic RemoteError. Messages and details never
carry passwords or tokens.
"""

from __future__ import annotations

from shared.errors import (
    Conflict,
    Forbidden,
    NotFound,
    TooManyRequests,
    Unauthenticated,
    registered,
)


@registered
class InvalidCredentials(Unauthenticated):
    """Unknown user or wrong password: deliberately the same error for both."""

    code = "invalid_credentials"


@registered
class TooManyAttempts(TooManyRequests):
    """Too many failed logins for this username: refused without checking the password.

    details: {"field": "username", "retry_after_seconds": 57}; the same for unknown names.
    """

    code = "too_many_attempts"


@registered
class InvalidToken(Unauthenticated):
    """The token is malformed or unknown."""

    code = "invalid_token"


@registered
class TokenExpired(Unauthenticated):
    code = "token_expired"


@registered
class TokenRevoked(Unauthenticated):
    code = "token_revoked"


@registered
class UserDisabled(Unauthenticated):
    code = "user_disabled"


@registered
class PermissionDenied(Forbidden):
    """The permission matrix refuses; details are {area, action, project_id}."""

    code = "forbidden"


@registered
class UserExists(Conflict):
    code = "user_exists"


@registered
class DepartmentExists(Conflict):
    code = "department_exists"


@registered
class ProjectExists(Conflict):
    code = "project_exists"


@registered
class LastCloudAdmin(Conflict):
    """Refused: the change would leave the platform without an active cloud admin."""

    code = "last_cloud_admin"


@registered
class UserNotFound(NotFound):
    code = "user_not_found"


@registered
class DepartmentNotFound(NotFound):
    code = "department_not_found"


@registered
class ProjectNotFound(NotFound):
    code = "project_not_found"


@registered
class MemberNotFound(NotFound):
    code = "member_not_found"


@registered
class TokenNotFound(NotFound):
    code = "token_not_found"


@registered
class DepartmentAdminNotFound(NotFound):
    code = "department_admin_not_found"
