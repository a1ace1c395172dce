"""Schemas of the quota service's RPC payloads, in (requests) and out (answers).

Resource names:
    cpu                 millicores
    memory              bytes
    gpu                 devices
    storage.<class>     bytes of a StorageClass, e.g. storage.capacity
    count.<kind>        objects of a kind, e.g. count.pods, count.persistentvolumeclaims
Every quantity is a non-negative integer below 2**62 (booleans and floats are refused).
"""

from __future__ import annotations

import re
from typing import Any

from marshmallow import Schema, fields, validate

from services.quota.exceptions import UnknownResource
from services.quota.models import ACTOR_LENGTH, KEY_LENGTH, PROJECT_ID_LENGTH, STATUSES
from shared.events import SYSTEM_ACTOR
from shared.schemas import StrictSchema, load

MAX_QUANTITY = 2**62 - 1
MAX_ITEMS = 64
MAX_TTL_SECONDS = 7 * 24 * 3600

# A StorageClass name is a DNS subdomain; a kind is a lowercase plural (optionally with group).
_DNS_NAME = r"[a-z0-9](?:[a-z0-9.-]{0,115}[a-z0-9])?"
RESOURCE_PATTERN = re.compile(rf"^(?:cpu|memory|gpu|storage\.{_DNS_NAME}|count\.{_DNS_NAME})$")
RESOURCE_HELP = "cpu, memory, gpu, storage.<class>, count.<kind>"


def is_resource(name: Any) -> bool:
    return isinstance(name, str) and RESOURCE_PATTERN.fullmatch(name) is not None


def ProjectId(**kwargs: Any) -> fields.String:  # noqa: N802 - reads like a field class
    return fields.String(
        validate=validate.Regexp(rf"^[A-Za-z0-9][A-Za-z0-9_.:-]{{0,{PROJECT_ID_LENGTH - 1}}}$"),
        **kwargs,
    )


def Quantity(**kwargs: Any) -> fields.Integer:  # noqa: N802 - reads like a field class
    return fields.Integer(strict=True, validate=validate.Range(min=0, max=MAX_QUANTITY), **kwargs)


def ResourceName() -> fields.String:  # noqa: N802 - reads like a field class
    return fields.String(validate=validate.Regexp(RESOURCE_PATTERN, error="unknown resource"))


def _key(**kwargs: Any) -> fields.String:
    return fields.String(validate=validate.Length(min=1, max=KEY_LENGTH), **kwargs)


def _actor() -> fields.String:
    return fields.String(
        load_default=SYSTEM_ACTOR, validate=validate.Length(min=1, max=ACTOR_LENGTH)
    )


class ItemSchema(StrictSchema):
    requested = Quantity(required=True)
    overhead = Quantity(load_default=0)


class SetLimitsSchema(StrictSchema):
    project_id = ProjectId(required=True)
    # null removes a limit (the resource becomes unlimited again)
    limits = fields.Dict(
        keys=ResourceName(),
        values=Quantity(allow_none=True),
        required=True,
        validate=validate.Length(min=1, max=MAX_ITEMS),
    )
    actor = _actor()


class ProjectSchema(StrictSchema):
    project_id = ProjectId(required=True)


class ReserveSchema(StrictSchema):
    project_id = ProjectId(required=True)
    key = _key(required=True)
    items = fields.Dict(
        keys=ResourceName(),
        values=fields.Nested(ItemSchema),
        required=True,
        validate=validate.Length(min=1, max=MAX_ITEMS),
    )
    actor = _actor()
    ttl_seconds = fields.Integer(
        strict=True,
        allow_none=True,
        load_default=None,
        validate=validate.Range(min=1, max=MAX_TTL_SECONDS),
    )


class KeySchema(StrictSchema):
    key = _key(required=True)
    actor = _actor()


class ReservationSchema(Schema):
    """The answer of reserve, commit, release and get_reservation."""

    key = fields.String()
    project_id = fields.String()
    status = fields.String(validate=validate.OneOf(STATUSES))
    items = fields.Dict(keys=fields.String(), values=fields.Nested(ItemSchema))
    expires_at = fields.AwareDateTime(allow_none=True)
    created_at = fields.AwareDateTime()


class LimitsSchema(Schema):
    project_id = fields.String()
    limits = fields.Dict(keys=fields.String(), values=fields.Integer())
    over_limit = fields.List(fields.String())


class ResourceUsageSchema(Schema):
    limit = fields.Integer(allow_none=True)
    requested = fields.Integer()
    overhead = fields.Integer()
    used = fields.Integer()
    reserved = fields.Integer()


class UsageSchema(Schema):
    project_id = fields.String()
    resources = fields.Dict(keys=fields.String(), values=fields.Nested(ResourceUsageSchema))


def load_payload(schema: Schema, data: dict[str, Any]) -> dict[str, Any]:
    """Validate an RPC payload; unknown resource names raise UnknownResource first."""
    for field in ("items", "limits"):
        names = data.get(field)
        if isinstance(names, dict):
            unknown = sorted(str(name) for name in names if not is_resource(name))
            if unknown:
                raise UnknownResource(
                    f"unknown resource {', '.join(unknown)} (known: {RESOURCE_HELP})",
                    {
                        "location": "payload",
                        "fields": {field: {name: ["unknown resource"] for name in unknown}},
                        "resources": unknown,
                    },
                )
    return load(schema, data, location="payload")
