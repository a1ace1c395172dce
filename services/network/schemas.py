"""Schemas of the network service's RPC payloads (the gateway validates the same shapes)."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import fields, validate

from services.network.exceptions import InvalidManifest
from shared.errors import ValidationFailed
from shared.schemas import StrictSchema, load

DNS_LABEL = r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$"
KINDS = ("Service", "Ingress")


def Name(**kwargs: Any) -> fields.String:  # noqa: N802 - reads like a field class
    return fields.String(validate=validate.Regexp(DNS_LABEL, error="a DNS label"), **kwargs)


class PortSchema(StrictSchema):
    name = fields.String(validate=validate.Regexp(DNS_LABEL), load_default=None)
    port = fields.Integer(required=True, strict=True, validate=validate.Range(1, 65535))
    target_port = fields.Raw(load_default=None)
    protocol = fields.String(load_default="TCP", validate=validate.OneOf(("TCP", "UDP", "SCTP")))
    node_port = fields.Integer(
        strict=True, load_default=None, validate=validate.Range(30000, 32767)
    )


class ServiceFormSchema(StrictSchema):
    kind = fields.String(load_default="Service", validate=validate.Equal("Service"))
    name = Name(required=True)
    type = fields.String(
        load_default="ClusterIP",
        validate=validate.OneOf(("ClusterIP", "NodePort", "LoadBalancer")),
    )
    ports = fields.List(
        fields.Nested(PortSchema), required=True, validate=validate.Length(min=1, max=100)
    )
    selector = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    labels = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)


class IngressRuleSchema(StrictSchema):
    host = fields.String(load_default=None, validate=validate.Length(max=253))
    path = fields.String(load_default="/", validate=validate.Regexp(r"^/"))
    path_type = fields.String(
        load_default="Prefix",
        validate=validate.OneOf(("Prefix", "Exact", "ImplementationSpecific")),
    )
    service = Name(required=True)
    port = fields.Integer(required=True, strict=True, validate=validate.Range(1, 65535))


class IngressFormSchema(StrictSchema):
    kind = fields.String(required=True, validate=validate.Equal("Ingress"))
    name = Name(required=True)
    rules = fields.List(
        fields.Nested(IngressRuleSchema), required=True, validate=validate.Length(min=1, max=100)
    )
    ingress_class = fields.String(load_default=None)
    labels = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)


def load_form(form: Any) -> dict[str, Any]:
    """Validate a Service or Ingress form by its `kind` (Service when absent)."""
    kind = form.get("kind", "Service") if isinstance(form, dict) else None
    schema = IngressFormSchema() if kind == "Ingress" else ServiceFormSchema()
    return load_checked(schema, form)


def load_checked(schema: Any, data: Any) -> dict[str, Any]:
    try:
        return load(schema, data, location="body")
    except ValidationFailed as exc:
        raise InvalidManifest(exc.message, exc.details) from exc


def check_target(kind: str, name: str) -> None:
    if kind not in KINDS:
        raise InvalidManifest(
            f"kind: one of {', '.join(KINDS)}",
            {"fields": {"kind": [f"one of {', '.join(KINDS)}"]}},
        )
    if not isinstance(name, str) or not re.match(DNS_LABEL, name):
        raise InvalidManifest("name: a DNS label", {"fields": {"name": ["a DNS label"]}})
