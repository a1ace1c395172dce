"""Cluster overview, nodes, namespaces, CRDs and custom resources (cluster service).

Node and cluster endpoints are cloud-admin only (the matrix's `cluster` and `nodes` areas);
namespaces are for cloud admins and the admins of the project; custom resources for every
member of the project, CRD import for cloud admins.
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from gateway.api import ApiCall, route
from shared.schemas import StrictSchema

V1 = "/api/v1"
P = f"{V1}/projects/<project_id>"
EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")


class EditLabelsSchema(StrictSchema):
    add = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    remove = fields.List(fields.String(), load_default=list)


class TaintSchema(StrictSchema):
    key = fields.String(required=True)
    value = fields.String(load_default=None, allow_none=True)
    effect = fields.String(required=True, validate=validate.OneOf(EFFECTS))


class TaintRefSchema(StrictSchema):
    key = fields.String(required=True)
    effect = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(EFFECTS))


class EditTaintsSchema(StrictSchema):
    add = fields.List(fields.Nested(TaintSchema), load_default=list)
    remove = fields.List(fields.Nested(TaintRefSchema), load_default=list)


class CreateNamespaceSchema(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=63))


class ForceQuerySchema(StrictSchema):
    force = fields.Boolean(load_default=False)


class ManifestSchema(StrictSchema):
    """One object, as a JSON object (`manifest`) or as one YAML document (`yaml`)."""

    manifest = fields.Dict(load_default=None)
    yaml = fields.String(load_default=None, validate=validate.Length(min=1))

    @validates_schema
    def _one_of(self, data: dict[str, Any], **_: Any) -> None:
        if (data.get("manifest") is None) == (data.get("yaml") is None):
            raise ValidationError("give exactly one of manifest and yaml", "manifest")


class ImportCustomResourceSchema(ManifestSchema):
    namespace = fields.String(load_default=None, validate=validate.Length(min=1, max=63))


class CustomResourceQuerySchema(StrictSchema):
    namespace = fields.String(required=True, validate=validate.Length(min=1, max=63))
    crd = fields.String(required=True, validate=validate.Length(min=1, max=253))


class ClusterRoutes:
    cluster: Any  # RpcProxy declared on GatewayService
    auth: Any

    # -- cluster and nodes (cloud admin) -------------------------------------------------------

    @route(
        "GET",
        f"{V1}/cluster",
        summary="Cluster overview",
        tag="cluster",
        area="cluster",
        action="view",
    )
    def cluster_overview(self, call: ApiCall) -> Any:
        return self.cluster.overview()

    @route("GET", f"{V1}/nodes", summary="List nodes", tag="nodes", area="nodes", action="view")
    def list_nodes(self, call: ApiCall) -> Any:
        return {"items": self.cluster.list_nodes()}

    @route(
        "GET",
        f"{V1}/nodes/<name>",
        summary="Node detail",
        tag="nodes",
        area="nodes",
        action="view",
    )
    def get_node(self, call: ApiCall) -> Any:
        return self.cluster.get_node(call.path["name"])

    @route(
        "POST",
        f"{V1}/nodes/<name>/cordon",
        summary="Cordon a node",
        tag="nodes",
        area="nodes",
        action="cordon",
    )
    def cordon_node(self, call: ApiCall) -> Any:
        return self.cluster.cordon_node(call.path["name"], True)

    @route(
        "POST",
        f"{V1}/nodes/<name>/uncordon",
        summary="Uncordon a node",
        tag="nodes",
        area="nodes",
        action="cordon",
    )
    def uncordon_node(self, call: ApiCall) -> Any:
        return self.cluster.cordon_node(call.path["name"], False)

    @route(
        "PUT",
        f"{V1}/nodes/<name>/labels",
        summary="Add and remove node labels",
        tag="nodes",
        area="nodes",
        action="label",
        body=EditLabelsSchema(),
    )
    def edit_node_labels(self, call: ApiCall) -> Any:
        return self.cluster.edit_node_labels(
            call.path["name"], call.body["add"], call.body["remove"]
        )

    @route(
        "PUT",
        f"{V1}/nodes/<name>/taints",
        summary="Add and remove node taints",
        tag="nodes",
        area="nodes",
        action="taint",
        body=EditTaintsSchema(),
    )
    def edit_node_taints(self, call: ApiCall) -> Any:
        return self.cluster.edit_node_taints(
            call.path["name"], call.body["add"], call.body["remove"]
        )

    # -- namespaces (cloud admin, project and department admins) ------------------------------

    @route(
        "GET",
        f"{P}/namespaces",
        summary="The project's namespaces",
        tag="namespaces",
        area="namespaces",
        action="view",
    )
    def list_namespaces(self, call: ApiCall) -> Any:
        return {"items": self.cluster.list_namespaces(call.path["project_id"])}

    @route(
        "GET",
        f"{P}/namespaces/<name>",
        summary="One namespace and its setup state",
        tag="namespaces",
        area="namespaces",
        action="view",
    )
    def get_namespace(self, call: ApiCall) -> Any:
        return self.cluster.get_namespace(call.path["project_id"], call.path["name"])

    @route(
        "POST",
        f"{P}/namespaces",
        summary="Create a namespace (ready once set up)",
        tag="namespaces",
        area="namespaces",
        action="create",
        body=CreateNamespaceSchema(),
        status=201,
    )
    def create_namespace(self, call: ApiCall) -> Any:
        self.auth.get_project(call.path["project_id"])  # 404 for a project that does not exist
        return self.cluster.create_namespace(
            call.path["project_id"], call.body["name"], call.user_id
        )

    @route(
        "DELETE",
        f"{P}/namespaces/<name>",
        summary="Delete a namespace (?force=true)",
        tag="namespaces",
        area="namespaces",
        action="delete",
        query=ForceQuerySchema(),
    )
    def delete_namespace(self, call: ApiCall) -> Any:
        return self.cluster.delete_namespace(
            call.path["project_id"], call.path["name"], call.user_id, call.query["force"]
        )

    # -- CRDs and custom resources -------------------------------------------------------------

    @route(
        "POST",
        f"{V1}/crds",
        summary="Import a CRD from YAML",
        tag="custom_resources",
        area="custom_resources",
        action="import_crd",
        body=ManifestSchema(),
        status=201,
    )
    def import_crd(self, call: ApiCall) -> Any:
        return self.cluster.import_crd(call.body["manifest"], call.body["yaml"])

    @route(
        "GET",
        f"{V1}/crds",
        summary="List CRDs (cluster-wide)",
        tag="custom_resources",
        area="custom_resources",
        action="view",
    )
    def list_crds(self, call: ApiCall) -> Any:
        return {"items": self.cluster.list_crds()}

    @route(
        "GET",
        f"{P}/crds",
        summary="List the CRDs a project can use",
        tag="custom_resources",
        area="custom_resources",
        action="view",
    )
    def list_project_crds(self, call: ApiCall) -> Any:
        return {"items": self.cluster.list_crds()}

    @route(
        "GET",
        f"{P}/custom-resources",
        summary="List custom resources of one CRD",
        tag="custom_resources",
        area="custom_resources",
        action="view",
        query=CustomResourceQuerySchema(),
    )
    def list_custom_resources(self, call: ApiCall) -> Any:
        items = self.cluster.list_custom_resources(
            call.path["project_id"], call.query["namespace"], call.query["crd"]
        )
        return {"items": items}

    @route(
        "POST",
        f"{P}/custom-resources",
        summary="Import a custom resource from YAML",
        tag="custom_resources",
        area="custom_resources",
        action="import_cr",
        body=ImportCustomResourceSchema(),
        status=201,
    )
    def import_custom_resource(self, call: ApiCall) -> Any:
        return self.cluster.import_custom_resource(
            call.path["project_id"],
            call.body["namespace"],
            call.body["manifest"],
            call.body["yaml"],
            call.user_id,
            bool(call.principal.get("is_cloud_admin")),
        )

    @route(
        "DELETE",
        f"{P}/custom-resources/<name>",
        summary="Delete a custom resource",
        tag="custom_resources",
        area="custom_resources",
        action="delete_cr",
        query=CustomResourceQuerySchema(),
    )
    def delete_custom_resource(self, call: ApiCall) -> Any:
        return self.cluster.delete_custom_resource(
            call.path["project_id"],
            call.query["namespace"],
            call.query["crd"],
            call.path["name"],
            call.user_id,
        )
