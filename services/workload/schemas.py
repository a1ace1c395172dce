"""Schemas of the workload service's RPC payloads and of the workload form.

The gateway validates HTTP input with its own schemas; the service validates again at its RPC
boundary (RPC is a public contract too) and answers ValidationFailed naming each field.
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from services.workload.manifests import WORKLOAD_KINDS
from shared.schemas import StrictSchema, load

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
QUANTITY = r"^[+]?[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$"
ENV_NAME = r"^[-._a-zA-Z][-._a-zA-Z0-9]*$"
MAX_REPLICAS = 1000


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
    completions = fields.Integer(strict=True, validate=validate.Range(min=1))
    parallelism = fields.Integer(strict=True, validate=validate.Range(min=0))
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
