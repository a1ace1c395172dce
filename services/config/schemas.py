"""marshmallow schemas of the config service's RPC arguments."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from services.config.exceptions import InvalidConfig
from shared.errors import ValidationFailed
from shared.schemas import StrictSchema, load

KIND = fields.String(required=True, validate=validate.OneOf(("ConfigMap", "Secret")))


class TargetSchema(StrictSchema):
    project_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    namespace = fields.String(required=True, validate=validate.Length(min=1, max=63))


class ListSchema(TargetSchema):
    kind = fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf(("ConfigMap", "Secret"))
    )
    reveal = fields.Boolean(load_default=False)


class ObjectSchema(TargetSchema):
    kind = KIND
    name = fields.String(required=True, validate=validate.Length(min=1, max=253))
    reveal = fields.Boolean(load_default=False)
    actor = fields.String(load_default=None, allow_none=True)


class WriteSchema(TargetSchema):
    kind = KIND
    name = fields.String(required=True, validate=validate.Length(min=1, max=253))
    data = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    labels = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    secret_type = fields.String(load_default="Opaque", validate=validate.Length(min=1, max=253))
    actor = fields.String(load_default=None, allow_none=True)


class YamlSchema(TargetSchema):
    kind = KIND
    name = fields.String(required=True, validate=validate.Length(min=1, max=253))
    yaml = fields.String(required=True, validate=validate.Length(min=1, max=1_000_000))
    actor = fields.String(load_default=None, allow_none=True)


class ApplySchema(TargetSchema):
    manifest = fields.Dict(required=True)
    actor = fields.String(load_default=None, allow_none=True)


class DeleteObjectSchema(TargetSchema):
    kind = fields.String(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=253))
    actor = fields.String(load_default=None, allow_none=True)


def load_args(schema: StrictSchema, data: dict[str, Any]) -> dict[str, Any]:
    """Validate RPC arguments. Messages name fields, never echo a value."""
    try:
        return load(schema, data, location="arguments")
    except ValidationFailed as exc:
        raise InvalidConfig(exc.message, exc.details) from None
