"""Schemas of the storage service's RPC payloads (the gateway validates the same shapes)."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate

from services.storage.exceptions import InvalidClaim
from shared.errors import ValidationFailed
from shared.quantity import bytes_of
from shared.schemas import StrictSchema, load

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
MAX_BYTES = 2**62 - 1


class Size(fields.Field):
    """Bytes as an integer, or a Kubernetes quantity string ("20Gi")."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValidationError("bytes as an integer or a quantity such as 10Gi")
        try:
            size = bytes_of(value)
        except ValueError as exc:
            raise ValidationError(f"not a quantity: {exc}") from exc
        if not 0 < size <= MAX_BYTES:
            raise ValidationError("must be positive")
        return size


class ClaimFormSchema(StrictSchema):
    name = fields.String(required=True, validate=validate.Regexp(DNS_LABEL, error="a DNS label"))
    storage_class = fields.String(load_default=None)
    size = Size(required=True)
    access_modes = fields.List(
        fields.String(
            validate=validate.OneOf(
                ("ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod")
            )
        ),
        load_default=lambda: ["ReadWriteOnce"],
        validate=validate.Length(min=1, max=4),
    )
    labels = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)


class ExpandSchema(StrictSchema):
    size = Size(required=True)


def load_checked(schema: Any, data: Any) -> dict[str, Any]:
    try:
        loaded = load(schema, data, location="body")
    except ValidationFailed as exc:
        raise InvalidClaim(exc.message, exc.details) from exc
    if "size" in loaded:
        loaded["size_bytes"] = loaded.pop("size")
    return loaded
