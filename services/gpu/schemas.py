"""Payload schemas of the gpu service's RPC (the gateway's placement body uses the same shape).

A placement request:
    {"count": 2, "model": "T4" | "any" | null, "cuda_version": "11.0" | null,
     "arch": "amd64" | null, "node_name": "gpu-t4-0" | null,
     "annotations": {"gpu.scs.io/cuda-version": "11.0"} | null,
     "containers": [{"name": "train", "env": [{"name": "CUDA_VERSION", "value": "11.2.2"}]}]}
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from shared.schemas import StrictSchema, load

MAX_DEVICES = 64
NAME = validate.Length(min=1, max=253)


class EnvVarSchema(StrictSchema):
    name = fields.String(required=True, validate=NAME)
    value = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4096))


class ContainerEnvSchema(StrictSchema):
    name = fields.String(load_default=None, allow_none=True, validate=NAME)
    env = fields.List(fields.Nested(EnvVarSchema), load_default=list)


class PlacementRequestSchema(StrictSchema):
    count = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=MAX_DEVICES)
    )
    model = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 128))
    cuda_version = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(1, 256)
    )
    arch = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 32))
    node_name = fields.String(load_default=None, allow_none=True, validate=NAME)
    annotations = fields.Dict(
        keys=fields.String(validate=NAME),
        values=fields.String(validate=validate.Length(max=4096)),
        load_default=None,
        allow_none=True,
    )
    containers = fields.List(
        fields.Nested(ContainerEnvSchema),
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=100),
    )


class PlaceSchema(StrictSchema):
    project_id = fields.String(required=True, validate=validate.Length(1, 64))
    request = fields.Dict(required=True)
    actor = fields.String(load_default=None, allow_none=True)


def load_request(request: Any) -> dict[str, Any]:
    """Validate a placement request; ValidationFailed names each offending field."""
    return load(PlacementRequestSchema(), request, location="payload")
