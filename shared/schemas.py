"""Schema helpers shared by every boundary: strict loading, pagination, error flattening."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from shared.errors import ValidationFailed

MAX_PAGE_SIZE = 500


class StrictSchema(Schema):
    """Unknown fields are an error, never silently dropped."""

    class Meta:
        unknown = RAISE


class StrictBoolean(fields.Boolean):
    """A JSON boolean only: "yes", 1 or "true" in a body are refused, not coerced."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class PageQuerySchema(StrictSchema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PAGE_SIZE))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=10_000_000))


def load(schema: Schema, data: Any, *, location: str = "body") -> dict[str, Any]:
    """Validate `data` with `schema`; raise ValidationFailed naming every offending field."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValidationFailed(
            f"the {location} must be a JSON object",
            {"location": location, "fields": {"_schema": ["must be a JSON object"]}},
        )
    try:
        return schema.load(data)  # type: ignore[no-any-return]
    except ValidationError as exc:
        fields_in_error = exc.messages if isinstance(exc.messages, dict) else {"_": exc.messages}
        names = ", ".join(sorted(str(k) for k in fields_in_error))
        raise ValidationFailed(
            f"invalid {location}: {names}", {"location": location, "fields": fields_in_error}
        ) from exc


def page(items: list[Any], total: int, limit: int, offset: int) -> dict[str, Any]:
    return {"items": items, "total": total, "limit": limit, "offset": offset}
