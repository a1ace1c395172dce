"""Schemas of the workload service's RPC payloads and of the workload form.

The gateway validates HTTP input with its own schemas; the service validates again at its RPC
boundary (RPC is a public contract too) and answers ValidationFailed naming each field.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from marshmallow import ValidationError, fields, post_load, validate, validates_schema

from services.workload.manifests import WORKLOAD_KINDS
from shared.errors import ValidationFailed
from shared.schemas import StrictSchema, load

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
QUANTITY = r"^[+]?[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$"
ENV_NAME = r"^[-._a-zA-Z][-._a-zA-Z0-9]*$"
MAX_REPLICAS = 1000  # pods of one workload at once: scale, form, HPA, manifests (preflight.py)
MAX_COMPLETIONS = 100_000  # a Job's completions: run `parallelism` at a time, not paid at once


def Name(**kwargs: Any) -> fields.String:  # noqa: N802 - reads like a field class
    return fields.String(validate=validate.Regexp(DNS_LABEL, error="not a DNS label"), **kwargs)


def Quantity(**kwargs: Any) -> fields.String:  # noqa: N802
    return fields.String(validate=validate.Regexp(QUANTITY, error="not a quantity"), **kwargs)


def Replicas(**kwargs: Any) -> fields.Integer:  # noqa: N802
    return fields.Integer(strict=True, validate=validate.Range(min=0, max=MAX_REPLICAS), **kwargs)


class ResourceValuesSchema(StrictSchema):
    cpu = Quantity()
    memory = Quantity()
    gpu = fields.Integer(strict=True, validate=validate.Range(min=0, max=16))


class ResourcesSchema(StrictSchema):
    requests = fields.Nested(ResourceValuesSchema)
    limits = fields.Nested(ResourceValuesSchema)


class VolumeSchema(StrictSchema):
    name = Name(required=True)
    mount_path = fields.String(required=True, validate=validate.Regexp(r"^/", error="absolute"))
    config_map = Name()
    secret = Name()
    claim = Name()
    size_limit = Quantity()


class StrategySchema(StrictSchema):
    type = fields.String(
        validate=validate.OneOf(["RollingUpdate", "Recreate", "OnDelete"]),
        load_default="RollingUpdate",
    )
    max_surge = fields.Raw()
    max_unavailable = fields.Raw()
    partition = fields.Integer(strict=True, validate=validate.Range(min=0))

    @validates_schema
    def _int_or_percent(self, data: dict[str, Any], **_: Any) -> None:
        for key in ("max_surge", "max_unavailable"):
            value = data.get(key)
            if value is None or (isinstance(value, int) and not isinstance(value, bool)):
                continue
            if not (isinstance(value, str) and value.endswith("%") and value[:-1].isdigit()):
                raise ValidationError("an integer or a percentage like 25%", key)


class TolerationSchema(StrictSchema):
    key = fields.String()
    operator = fields.String(validate=validate.OneOf(["Exists", "Equal"]))
    value = fields.String()
    effect = fields.String(
        validate=validate.OneOf(["NoSchedule", "PreferNoSchedule", "NoExecute"])
    )


class SchedulingSchema(StrictSchema):
    node_selector = fields.Dict(keys=fields.String(), values=fields.String())
    node_affinity = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))
    tolerations = fields.List(fields.Nested(TolerationSchema))


class WorkloadFormSchema(StrictSchema):
    kind = fields.String(required=True, validate=validate.OneOf(list(WORKLOAD_KINDS)))
    name = Name(required=True)
    image = fields.String(required=True, validate=validate.Length(min=1, max=512))
    container_name = Name()
    command = fields.List(fields.String())
    args = fields.List(fields.String())
    env = fields.Dict(
        keys=fields.String(validate=validate.Regexp(ENV_NAME)), values=fields.String()
    )
    ports = fields.List(fields.Integer(strict=True, validate=validate.Range(min=1, max=65535)))
    resources = fields.Nested(ResourcesSchema)
    replicas = Replicas()
    volumes = fields.List(fields.Nested(VolumeSchema))
    strategy = fields.Nested(StrategySchema)
    scheduling = fields.Nested(SchedulingSchema)
    labels = fields.Dict(keys=fields.String(), values=fields.String())
    schedule = fields.String(validate=validate.Length(min=1, max=128))
    completions = fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_COMPLETIONS))
    parallelism = fields.Integer(strict=True, validate=validate.Range(min=0, max=MAX_REPLICAS))
    backoff_limit = fields.Integer(strict=True, validate=validate.Range(min=0))
    restart_policy = fields.String(validate=validate.OneOf(["Never", "OnFailure"]))

    @validates_schema
    def _kind_fields(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("kind") == "CronJob" and not data.get("schedule"):
            raise ValidationError("a CronJob needs a schedule", "schedule")


class ContainerUpdateSchema(StrictSchema):
    name = Name(required=True)
    image = fields.String(validate=validate.Length(min=1, max=512))
    env = fields.Dict(
        keys=fields.String(validate=validate.Regexp(ENV_NAME)), values=fields.String()
    )
    resources = fields.Nested(ResourcesSchema)


class UpdateSchema(StrictSchema):
    containers = fields.List(fields.Nested(ContainerUpdateSchema))
    labels = fields.Dict(keys=fields.String(), values=fields.String(allow_none=True))


class AutoscalingSchema(StrictSchema):
    enabled = fields.Boolean(load_default=True)
    min_replicas = fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_REPLICAS))
    max_replicas = fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_REPLICAS))
    cpu_utilization = fields.Integer(strict=True, validate=validate.Range(min=1, max=1000))
    memory_utilization = fields.Integer(strict=True, validate=validate.Range(min=1, max=1000))

    @validates_schema
    def _bounds(self, data: dict[str, Any], **_: Any) -> None:
        if not data.get("enabled", True):
            return
        if data.get("max_replicas") is None:
            raise ValidationError("required when autoscaling is enabled", "max_replicas")
        if data.get("min_replicas", 1) > data["max_replicas"]:
            raise ValidationError("must not exceed max_replicas", "min_replicas")
        if not data.get("cpu_utilization") and not data.get("memory_utilization"):
            raise ValidationError("name a cpu or memory target", "cpu_utilization")


# -- network settings (network_settings.py) ------------------------------------------------

SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer", "None")
PROTOCOLS = ("TCP", "UDP", "SCTP")
# A container port's name (Kubernetes' IANA_SVC_NAME): at most 15 characters, a letter among
# them, no leading, trailing or doubled '-'.
PORT_NAME = re.compile(r"^(?=.*[a-z])(?!-)(?!.*--)[-a-z0-9]{1,15}(?<!-)$")
HOST_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
INGRESS_PATH = r"^/[-A-Za-z0-9._~%!$&'()*+,;=:@/]*$"


def Port(**kwargs: Any) -> fields.Integer:  # noqa: N802
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=65535), **kwargs)


class PortReference(fields.Field):
    """A container port by number (1-65535) or by name (as the container names it)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> int | str:
        if isinstance(value, int) and not isinstance(value, bool):
            if 1 <= value <= 65535:
                return value
            raise ValidationError("a port number is 1-65535")
        if isinstance(value, str) and PORT_NAME.match(value):
            return value
        raise ValidationError(
            "a port number (1-65535) or a container port's name (at most 15 characters: "
            "a-z, 0-9 and '-', with a letter)"
        )


def _check_host(value: str) -> None:
    if len(value) > 253 or not all(HOST_LABEL.match(label) for label in value.split(".")):
        raise ValidationError(
            "a DNS name: lowercase labels of a-z, 0-9 and '-' separated by dots (no wildcard)"
        )
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return
    raise ValidationError("a DNS name, not an IP address")


class ServicePortSchema(StrictSchema):
    name = Name(load_default=None)
    port = Port(required=True)
    # the port the pods listen on; the Service's port when absent
    target_port = PortReference(load_default=None)
    protocol = fields.String(load_default="TCP", validate=validate.OneOf(PROTOCOLS))


class ServiceSettingsSchema(StrictSchema):
    type = fields.String(load_default="ClusterIP", validate=validate.OneOf(SERVICE_TYPES))
    ports = fields.List(
        fields.Nested(ServicePortSchema), load_default=list, validate=validate.Length(max=100)
    )

    @validates_schema
    def _ports(self, data: dict[str, Any], **_: Any) -> None:
        ports = data.get("ports") or []
        if data.get("type") == "None":
            if ports:
                raise ValidationError("a Service of type None has no ports", "ports")
            return
        if not ports:
            raise ValidationError("name at least one port", "ports")
        errors: dict[int, dict[str, list[str]]] = {}
        names: set[str] = set()
        numbers: set[tuple[int, str]] = set()
        for i, port in enumerate(ports):
            name, number = port.get("name"), (port["port"], port["protocol"])
            if name is None and len(ports) > 1:
                errors[i] = {"name": ["required when the Service has several ports"]}
            elif name is not None and name in names:
                errors[i] = {"name": [f"{name} is named twice"]}
            elif number in numbers:
                errors[i] = {"port": [f"{number[0]}/{number[1]} is listed twice"]}
            names.add(name or "")
            numbers.add(number)
        if errors:
            raise ValidationError({"ports": errors})  # type: ignore[dict-item]

    @post_load
    def _default_targets(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        for port in data["ports"]:
            if port["target_port"] is None:
                port["target_port"] = port["port"]
        return data


class IngressSettingsSchema(StrictSchema):
    host = fields.String(required=True, validate=_check_host)
    path = fields.String(
        load_default="/",
        validate=[
            validate.Length(max=1024),
            validate.Regexp(INGRESS_PATH, error="an absolute URL path such as /shop"),
        ],
    )
    path_type = fields.String(load_default="Prefix", validate=validate.OneOf(["Prefix", "Exact"]))
    # the Service's port the Ingress sends to; may be left out when the Service has one port
    port = Port(load_default=None)


class NetworkSettingsSchema(StrictSchema):
    """A workload's whole network settings: `service` null (or type None) removes the Service;
    `ingress` null or absent removes the Ingress."""

    service = fields.Nested(ServiceSettingsSchema, required=True, allow_none=True)
    ingress = fields.Nested(IngressSettingsSchema, load_default=None, allow_none=True)

    @validates_schema
    def _ingress_needs_a_service(self, data: dict[str, Any], **_: Any) -> None:
        ingress, service = data.get("ingress"), data.get("service")
        if ingress is None:
            return
        if service is None or service["type"] == "None":
            raise ValidationError("an Ingress sends to the workload's Service: set one", "ingress")
        tcp = [p["port"] for p in service["ports"] if p["protocol"] == "TCP"]
        if ingress["port"] is None and len(tcp) != 1:
            raise ValidationError({"port": ["name one of the Service's TCP ports"]}, "ingress")
        if ingress["port"] is not None and ingress["port"] not in tcp:
            raise ValidationError(
                {"port": [f"not a TCP port of the Service (its TCP ports: {tcp})"]}, "ingress"
            )

    @post_load
    def _default_ingress_port(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        service, ingress = data["service"], data["ingress"]
        if service is not None and service["type"] == "None":
            data["service"] = service = None
        if ingress is not None and ingress["port"] is None:
            ingress["port"] = next(p["port"] for p in service["ports"] if p["protocol"] == "TCP")
        return data


def field_paths(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages as flat field paths: {"service.ports[0].port": [...]}."""
    if not isinstance(messages, dict):
        return {
            prefix or "_schema": [str(m) for m in messages]
            if isinstance(messages, list)
            else [str(messages)]
        }
    flat: dict[str, list[str]] = {}
    for key, value in messages.items():
        if isinstance(key, int):
            path = f"{prefix}[{key}]"
        elif key == "_schema":
            path = prefix or "_schema"
        else:
            path = f"{prefix}.{key}" if prefix else str(key)
        flat.update(field_paths(value, path))
    return flat


class LogOptionsSchema(StrictSchema):
    container = fields.String()
    tail_lines = fields.Integer(strict=True, validate=validate.Range(min=1, max=100_000))
    since_seconds = fields.Integer(strict=True, validate=validate.Range(min=1))
    previous = fields.Boolean(load_default=False)
    limit_bytes = fields.Integer(strict=True, validate=validate.Range(min=1, max=10 * 2**20))


class FollowLogOptionsSchema(LogOptionsSchema):
    # capped by the service's LOG_FOLLOW_MAX_SECONDS
    max_seconds = fields.Integer(strict=True, validate=validate.Range(min=1), load_default=None)


def load_payload(schema: StrictSchema, data: Any, location: str = "body") -> dict[str, Any]:
    return load(schema, data, location=location)


def load_network_settings(data: Any) -> dict[str, Any]:
    """NetworkSettingsSchema, its refusals naming each field by its path."""
    try:
        return load(NetworkSettingsSchema(), data, location="body")
    except ValidationFailed as exc:
        paths = field_paths(exc.details.get("fields") or {})
        raise ValidationFailed(
            f"invalid network settings: {', '.join(sorted(paths))}",
            {"location": "body", "field": min(paths), "fields": paths},
        ) from exc
