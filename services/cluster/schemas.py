"""marshmallow schemas of the cluster service's RPC arguments (the gateway has its own)."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from services.cluster.exceptions import InvalidInput
from shared.errors import ValidationFailed
from shared.schemas import StrictSchema, load

_NAME = r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
_PREFIX = r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?"
LABEL_KEY = re.compile(rf"^({_PREFIX}/)?{_NAME}$")
LABEL_VALUE = re.compile(rf"^({_NAME})?$")
EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")


def _key(value: str) -> None:
    if len(value) > 317 or not LABEL_KEY.match(value):
        raise ValidationError("not a qualified name (prefix/name, name at most 63 characters)")


def _value(value: str) -> None:
    if len(value) > 63 or not LABEL_VALUE.match(value):
        raise ValidationError("not a label value (at most 63 of A-Z a-z 0-9 - _ .)")


class NodeNameSchema(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=253))


class EditLabelsSchema(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=253))
    add = fields.Dict(
        keys=fields.String(validate=_key), values=fields.String(validate=_value), load_default=dict
    )
    remove = fields.List(fields.String(validate=_key), load_default=list)

    @validates_schema
    def _disjoint(self, data: dict[str, Any], **_: Any) -> None:
        both = sorted(set(data.get("add", {})) & set(data.get("remove", [])))
        if both:
            raise ValidationError(f"added and removed at once: {', '.join(both)}", "remove")


class TaintSchema(StrictSchema):
    key = fields.String(required=True, validate=_key)
    value = fields.String(load_default=None, allow_none=True, validate=_value)
    effect = fields.String(required=True, validate=validate.OneOf(EFFECTS))


class TaintRefSchema(StrictSchema):
    key = fields.String(required=True, validate=_key)
    effect = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(EFFECTS))


class EditTaintsSchema(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=253))
    add = fields.List(fields.Nested(TaintSchema), load_default=list)
    remove = fields.List(fields.Nested(TaintRefSchema), load_default=list)


class CreateNamespaceSchema(StrictSchema):
    project_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    name = fields.String(required=True, validate=validate.Length(min=1, max=63))
    actor = fields.String(required=True)


class DeleteNamespaceSchema(StrictSchema):
    project_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    name = fields.String(required=True, validate=validate.Length(min=1, max=63))
    actor = fields.String(required=True)
    force = fields.Boolean(load_default=False)


class ManifestSchema(StrictSchema):
    manifest = fields.Dict(load_default=None, allow_none=True)
    yaml = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=1_000_000)
    )


class ImportCustomResourceSchema(ManifestSchema):
    project_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    namespace = fields.String(load_default=None, allow_none=True)
    actor = fields.String(required=True)
    allow_cluster_scoped = fields.Boolean(load_default=False)


class CustomResourceRefSchema(StrictSchema):
    project_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    namespace = fields.String(required=True, validate=validate.Length(min=1, max=63))
    crd = fields.String(required=True, validate=validate.Length(min=1, max=253))
    name = fields.String(load_default=None, allow_none=True)
    actor = fields.String(load_default=None, allow_none=True)


def load_args(schema: StrictSchema, data: dict[str, Any]) -> dict[str, Any]:
    """Validate RPC arguments; the error crosses RPC typed with its JSON details intact."""
    try:
        return load(schema, data, location="arguments")
    except ValidationFailed as exc:
        raise InvalidInput(exc.message, exc.details) from exc
