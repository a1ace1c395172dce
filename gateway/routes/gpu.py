"""GPUs: the inventory, a per-model summary, and dry-run placements (gpu service).

Who sees what (area `gpu` of the permission matrix, docs in services/gpu/README.md):
- GET /api/v1/gpus, every node's devices: cloud admins only (`gpu.view`, like `nodes.view`);
- GET /api/v1/projects/<id>/gpus, per model and architecture without node names: every member
  (`gpu.view_summary`), so people can choose what to ask for;
- POST /api/v1/projects/<id>/gpu/placements, a dry run of a request: whoever may create
  workloads in the project (`workloads.create`). A refusal says what is free where.
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from gateway.api import ApiCall, route
from shared.schemas import StrictSchema

V1 = "/api/v1"
NAME = validate.Length(min=1, max=253)


class GpuEnvVarSchema(StrictSchema):
    name = fields.String(required=True, validate=NAME)
    value = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4096))


class GpuContainerSchema(StrictSchema):
    name = fields.String(load_default=None, allow_none=True, validate=NAME)
    env = fields.List(fields.Nested(GpuEnvVarSchema), load_default=list)


class GpuPlacementSchema(StrictSchema):
    """ "N x model" (model "any" or absent: any supported model), with the CUDA it needs."""

    count = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=64))
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
        fields.Nested(GpuContainerSchema),
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=100),
    )


class GpuRoutes:
    auth: Any  # RpcProxies declared on GatewayService
    gpu: Any

    @route(
        "GET",
        f"{V1}/gpus",
        summary="GPU inventory: every node's devices, model, architecture, allocated, free",
        tag="gpu",
        area="gpu",
        action="view",
    )
    def get_gpu_inventory(self, call: ApiCall) -> Any:
        return self.gpu.inventory()

    @route(
        "GET",
        f"{V1}/projects/<project_id>/gpus",
        summary="GPUs per model and architecture (no node names) and the compatibility matrix",
        tag="gpu",
        area="gpu",
        action="view_summary",
    )
    def get_gpu_summary(self, call: ApiCall) -> Any:
        return self.gpu.inventory_summary()

    @route(
        "POST",
        f"{V1}/projects/<project_id>/gpu/placements",
        summary="Dry run: where would N x model go (node selector and limits), or why not",
        tag="gpu",
        area="workloads",
        action="create",
        body=GpuPlacementSchema(),
    )
    def check_gpu_placement(self, call: ApiCall) -> Any:
        self.auth.get_project(call.path["project_id"])  # 404 for a project that does not exist
        body = {key: value for key, value in call.body.items() if value is not None}
        return {**self.gpu.check_request(body), "project_id": call.path["project_id"]}
