"""Schemas of the audit service's RPC arguments (strict: unknown fields are refused)."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from services.audit.exceptions import InvalidAuditFilter
from services.audit.models import ACTOR_LENGTH, ID_LENGTH, NAME_LENGTH, OUTCOMES, TYPE_LENGTH
from shared.errors import ValidationFailed
from shared.schemas import MAX_PAGE_SIZE, StrictSchema, load

MAX_CHUNK_CHARS = 256 * 1024


def _text(length: int, **kwargs: Any) -> fields.String:
    return fields.String(validate=validate.Length(min=1, max=length), **kwargs)


class AuditFilterSchema(StrictSchema):
    """Filters of a query or an export; `project_id` or `all_projects` sets the scope."""

    project_id = _text(ID_LENGTH, load_default=None, allow_none=True)
    all_projects = fields.Boolean(load_default=False)
    cluster_only = fields.Boolean(load_default=False)
    since = fields.AwareDateTime(load_default=None, allow_none=True, default_timezone=UTC)
    until = fields.AwareDateTime(load_default=None, allow_none=True, default_timezone=UTC)
    actor = _text(ACTOR_LENGTH, load_default=None, allow_none=True)
    type = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Regexp(r"^[a-z_]+(\.[a-z_]+)*(\.\*)?$", error="not an event type"),
    )
    resource_kind = _text(TYPE_LENGTH, load_default=None, allow_none=True)
    resource_name = _text(NAME_LENGTH * 2, load_default=None, allow_none=True)
    resource_namespace = _text(NAME_LENGTH, load_default=None, allow_none=True)
    outcome = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(OUTCOMES))
    request_id = _text(ID_LENGTH, load_default=None, allow_none=True)
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PAGE_SIZE))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=10_000_000))

    @validates_schema
    def _time_range(self, data: dict[str, Any], **_: Any) -> None:
        since, until = data.get("since"), data.get("until")
        if since is not None and until is not None and since >= until:
            raise ValidationError("must be after since", field_name="until")


class TranscriptChunkSchema(StrictSchema):
    project_id = _text(ID_LENGTH, required=True)
    pod = _text(NAME_LENGTH, required=True)
    session_id = _text(ID_LENGTH, required=True)
    chunk = fields.String(required=True, validate=validate.Length(max=MAX_CHUNK_CHARS))
    offset = fields.Integer(
        load_default=None, allow_none=True, validate=validate.Range(min=0, max=2**62)
    )


class TranscriptRefSchema(StrictSchema):
    project_id = _text(ID_LENGTH, required=True)
    session_id = _text(ID_LENGTH, required=True)


def load_filters(filters: Any) -> dict[str, Any]:
    try:
        return load(AuditFilterSchema(), filters, location="arguments")
    except ValidationFailed as exc:
        raise InvalidAuditFilter(exc.message, exc.details) from exc


def load_args(schema: StrictSchema, values: dict[str, Any]) -> dict[str, Any]:
    return load(schema, values, location="arguments")
