"""HTTP request and response schemas (the OpenAPI document is generated from these)."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from shared import quantity
from shared.schemas import PageQuerySchema, StrictBoolean, StrictSchema

NAME = validate.Regexp(
    r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$",
    error="must be a DNS-1123 label: lower-case letters, digits and '-', at most 63",
)
USERNAME = validate.Regexp(
    r"^[a-z0-9]([-_.a-z0-9]{0,62})$",
    error="lower-case letters, digits, '-', '_' and '.', starting with a letter or digit",
)
MAX_TTL = 366 * 24 * 3600


class LoginSchema(StrictSchema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))
    ttl_seconds = fields.Integer(validate=validate.Range(min=60, max=MAX_TTL))


class ApiTokenSchema(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=64))
    ttl_seconds = fields.Integer(required=True, validate=validate.Range(min=60, max=MAX_TTL))


class TokenSchema(StrictSchema):
    token = fields.String()
    token_id = fields.String()
    expires_at = fields.String()


class CreateUserSchema(StrictSchema):
    username = fields.String(required=True, validate=USERNAME)
    password = fields.String(required=True, validate=validate.Length(min=8, max=1024))
    email = fields.Email(load_default=None)
    is_cloud_admin = StrictBoolean(load_default=False)


class CreateDepartmentSchema(StrictSchema):
    name = fields.String(required=True, validate=NAME)
    description = fields.String(load_default="", validate=validate.Length(max=1000))


class DepartmentAdminSchema(StrictSchema):
    user_id = fields.String(required=True, validate=validate.Length(min=1, max=64))


class CreateProjectSchema(StrictSchema):
    name = fields.String(required=True, validate=NAME)
    department_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    description = fields.String(load_default="", validate=validate.Length(max=1000))


class AddMemberSchema(StrictSchema):
    user_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    role = fields.String(required=True, validate=validate.OneOf(["project_admin", "user"]))


class Quantity(fields.Field):
    """A Kubernetes quantity ("500m", "4Gi", 2) loaded as an exact integer in base units."""

    def __init__(self, unit: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.unit = unit

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> int:
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ValidationError("must be a quantity such as 500m, 2 or 4Gi")
        try:
            if self.unit == "millicores":
                result = quantity.cpu_millicores(value)
            else:
                result = quantity.bytes_of(value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc
        if self.unit == "count" and result != quantity.parse_quantity(value):
            raise ValidationError("must be a whole number")
        if result >= 2**62:
            raise ValidationError("is absurdly large")
        return result


QUOTA_RESOURCE = validate.Regexp(
    r"^(cpu|memory|gpu|storage\.[a-z0-9-]{1,63}|count\.[a-z0-9]{1,63})$",
    error="must be cpu, memory, gpu, storage.<class> or count.<kind>",
)


class SetQuotaSchema(StrictSchema):
    """Limits by resource as Kubernetes quantities: cpu "4" (cores) or "500m", memory and
    storage "8Gi", counts as integers; null removes a limit. Stored exactly in base units."""

    limits = fields.Dict(
        required=True,
        keys=fields.String(validate=QUOTA_RESOURCE),
        values=fields.Raw(allow_none=True),
        validate=validate.Length(min=1, max=100),
    )

    @validates_schema
    def _check_quantities(self, data: dict[str, Any], **_: Any) -> None:
        errors: dict[str, list[str]] = {}
        converted: dict[str, int | None] = {}
        for resource, value in data.get("limits", {}).items():
            if value is None:  # null removes the limit: the resource becomes unlimited
                converted[resource] = None
                continue
            unit = (
                "millicores"
                if resource == "cpu"
                else "count"
                if resource == "gpu" or resource.startswith("count.")
                else "bytes"
            )
            try:
                converted[resource] = Quantity(unit)._deserialize(value, resource, data)
            except ValidationError as exc:
                errors[f"limits.{resource}"] = list(exc.messages)  # type: ignore[arg-type]
        if errors:
            raise ValidationError(errors)
        data["limits"] = converted


class ListQuerySchema(PageQuerySchema):
    pass
