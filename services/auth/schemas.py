"""Schemas of the auth service's RPC payloads (every argument is validated here)."""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates

from services.auth import passwords, permissions
from shared.schemas import MAX_PAGE_SIZE, StrictSchema

# Trusted RPC callers may ask for very short tokens (tests, one-off scripts); the HTTP API
# sets its own, stricter floor.
MIN_TTL_SECONDS = 1
MAX_TTL_SECONDS = 365 * 24 * 3600

ID = validate.Length(min=1, max=64)
USERNAME = validate.Regexp(
    r"^[a-z0-9][a-z0-9._-]{0,63}$",
    error="1-64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit",
)
# A DNS-1123 label: the project name becomes part of Kubernetes names.
DNS_LABEL = validate.Regexp(
    r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$",
    error="must be a DNS-1123 label: at most 63 lower-case letters, digits or '-', "
    "starting and ending with a letter or digit",
)


def _id(**kwargs: object) -> fields.String:
    return fields.String(validate=ID, **kwargs)  # type: ignore[arg-type]


class TokenTtlSchema(StrictSchema):
    ttl_seconds = fields.Integer(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=MIN_TTL_SECONDS, max=MAX_TTL_SECONDS),
    )
    name = fields.String(load_default="login", validate=validate.Length(min=1, max=128))


class LoginSchema(TokenTtlSchema):
    # Not the username pattern: an unknown name is InvalidCredentials, like a wrong password.
    username = fields.String(required=True, validate=validate.Length(min=1, max=256))
    password = fields.String(
        required=True, validate=validate.Length(min=1, max=passwords.MAX_LENGTH)
    )
    # The client's address as the gateway saw it, for the audit of failed logins.
    source = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=255))


class CreateApiTokenSchema(StrictSchema):
    user_id = _id(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=128))
    ttl_seconds = fields.Integer(
        required=True, validate=validate.Range(min=MIN_TTL_SECONDS, max=MAX_TTL_SECONDS)
    )


class AuthenticateSchema(StrictSchema):
    token = fields.String(required=True, validate=validate.Length(min=1, max=4096))


class RevokeTokenSchema(StrictSchema):
    principal_user_id = _id(required=True)
    token_id = _id(required=True)


class AuthorizeSchema(StrictSchema):
    user_id = _id(required=True)
    area = fields.String(required=True)
    action = fields.String(required=True)
    project_id = _id(load_default=None, allow_none=True)
    department_id = _id(load_default=None, allow_none=True)

    @validates("area")
    def _known_area(self, value: str, **_: object) -> None:
        if value not in permissions.MATRIX:
            raise ValidationError(f"unknown area {value!r}")


class PermissionsSchema(StrictSchema):
    user_id = _id(required=True)
    project_id = _id(load_default=None, allow_none=True)


class CreateUserSchema(StrictSchema):
    actor_user_id = _id(required=True)
    username = fields.String(required=True, validate=USERNAME)
    password = fields.String(
        required=True,
        validate=validate.Length(
            min=passwords.MIN_LENGTH,
            max=passwords.MAX_LENGTH,
            error=f"must be {passwords.MIN_LENGTH} to {passwords.MAX_LENGTH} characters",
        ),
    )
    email = fields.Email(load_default=None, allow_none=True)
    is_cloud_admin = fields.Boolean(load_default=False, truthy={True}, falsy={False})


class PageSchema(StrictSchema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PAGE_SIZE))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=10_000_000))


class UserIdSchema(StrictSchema):
    user_id = _id(required=True)


class CreateDepartmentSchema(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=128))
    description = fields.String(load_default="", validate=validate.Length(max=4096))


class DepartmentAdminSchema(StrictSchema):
    department_id = _id(required=True)
    user_id = _id(required=True)


class CreateProjectSchema(StrictSchema):
    name = fields.String(required=True, validate=DNS_LABEL)
    department_id = _id(required=True)
    description = fields.String(load_default="", validate=validate.Length(max=4096))


class ProjectIdSchema(StrictSchema):
    project_id = _id(required=True)


class ListProjectsSchema(PageSchema):
    user_id = _id(required=True)


class ListMembersSchema(PageSchema):
    project_id = _id(required=True)


class AddMemberSchema(StrictSchema):
    project_id = _id(required=True)
    user_id = _id(required=True)
    role = fields.String(required=True, validate=validate.OneOf(sorted(permissions.MEMBER_ROLES)))


class RemoveMemberSchema(StrictSchema):
    project_id = _id(required=True)
    user_id = _id(required=True)
