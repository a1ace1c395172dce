"""Volume claims (every member) and volumes / StorageClasses (admins) (storage service).

Areas `volume_claims` and `storage` of the permission matrix. Claims are created from a form
{namespace, name, storage_class, size}; they grow through PUT .../<name> {size} or an edited
YAML (both `edit_yaml`); a growth past the class quota is refused with `quota_exceeded`.
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from gateway.api import ApiCall, route
from shared.schemas import StrictSchema

P = "/api/v1/projects/<project_id>"
NAMESPACE = fields.String(required=True, validate=validate.Length(1, 63))


class ClaimCreateSchema(StrictSchema):
    namespace = NAMESPACE
    name = fields.String(load_default=None, validate=validate.Length(1, 253))
    storage_class = fields.String(load_default=None)
    size = fields.Raw(load_default=None)
    yaml = fields.String(load_default=None, validate=validate.Length(1, 1024 * 1024))
    access_modes = fields.List(fields.String(), load_default=None)
    labels = fields.Dict(keys=fields.String(), values=fields.String(), load_default=None)


class ClaimExpandSchema(StrictSchema):
    namespace = NAMESPACE
    size = fields.Raw(required=True)


class ClaimYamlSchema(StrictSchema):
    namespace = NAMESPACE
    yaml = fields.String(required=True, validate=validate.Length(1, 1024 * 1024))


class NamespaceQuerySchema(StrictSchema):
    namespace = fields.String(load_default=None)


class RequiredNamespaceQuerySchema(StrictSchema):
    namespace = NAMESPACE


class StorageRoutes:
    storage: Any  # RpcProxy declared on GatewayService

    # -- volume_claims -----------------------------------------------------------------------

    @route(
        "GET",
        f"{P}/volume-claims",
        summary="Volume claims of the project",
        tag="storage",
        area="volume_claims",
        action="view",
        query=NamespaceQuerySchema(),
    )
    def list_claims(self, call: ApiCall) -> Any:
        return self.storage.list_claims(call.path["project_id"], call.query["namespace"])

    @route(
        "POST",
        f"{P}/volume-claims",
        summary="Create a volume claim",
        tag="storage",
        area="volume_claims",
        action="create",
        body=ClaimCreateSchema(),
        status=201,
    )
    def create_claim(self, call: ApiCall) -> Any:
        if call.body["yaml"] is not None:
            return self.storage.create_claim_from_yaml(
                call.path["project_id"], call.body["namespace"], call.body["yaml"], call.user_id
            )
        form = {k: v for k, v in call.body.items() if k != "namespace" and v is not None}
        return self.storage.create_claim(
            call.path["project_id"], call.body["namespace"], form, call.user_id
        )

    @route(
        "PUT",
        f"{P}/volume-claims/<name>",
        summary="Grow a volume claim",
        tag="storage",
        area="volume_claims",
        action="edit_yaml",
        body=ClaimExpandSchema(),
    )
    def expand_claim(self, call: ApiCall) -> Any:
        return self.storage.expand_claim(
            call.path["project_id"],
            call.body["namespace"],
            call.path["name"],
            call.body["size"],
            call.user_id,
        )

    @route(
        "GET",
        f"{P}/volume-claims/<name>/yaml",
        summary="A volume claim as YAML",
        tag="storage",
        area="volume_claims",
        action="view",
        query=RequiredNamespaceQuerySchema(),
    )
    def get_claim_yaml(self, call: ApiCall) -> Any:
        return self.storage.get_claim_yaml(
            call.path["project_id"], call.query["namespace"], call.path["name"]
        )

    @route(
        "PUT",
        f"{P}/volume-claims/<name>/yaml",
        summary="Replace a volume claim from YAML",
        tag="storage",
        area="volume_claims",
        action="edit_yaml",
        body=ClaimYamlSchema(),
    )
    def replace_claim_yaml(self, call: ApiCall) -> Any:
        return self.storage.replace_claim_yaml(
            call.path["project_id"],
            call.body["namespace"],
            call.path["name"],
            call.body["yaml"],
            call.user_id,
        )

    @route(
        "DELETE",
        f"{P}/volume-claims/<name>",
        summary="Delete a volume claim",
        tag="storage",
        area="volume_claims",
        action="delete",
        query=RequiredNamespaceQuerySchema(),
    )
    def delete_claim(self, call: ApiCall) -> Any:
        return self.storage.delete_claim(
            call.path["project_id"], call.query["namespace"], call.path["name"], call.user_id
        )

    # -- storage (admins) ----------------------------------------------------------------------

    @route(
        "GET",
        f"{P}/storage/volumes",
        summary="PersistentVolumes of the project",
        tag="storage",
        area="storage",
        action="view",
    )
    def list_volumes(self, call: ApiCall) -> Any:
        return self.storage.list_volumes(call.path["project_id"])

    @route(
        "GET",
        f"{P}/storage/classes",
        summary="StorageClasses offered",
        tag="storage",
        area="storage",
        action="view",
    )
    def list_classes(self, call: ApiCall) -> Any:
        return self.storage.list_classes()

    @route(
        "GET",
        f"{P}/storage/classes/<name>/yaml",
        summary="A StorageClass as YAML",
        tag="storage",
        area="storage",
        action="view_storageclass_yaml",
    )
    def get_class_yaml(self, call: ApiCall) -> Any:
        return self.storage.get_class_yaml(call.path["name"])

    @route(
        "GET",
        f"{P}/storage/volumes/<name>/yaml",
        summary="A PersistentVolume as YAML",
        tag="storage",
        area="storage",
        action="view_pv_yaml",
    )
    def get_volume_yaml(self, call: ApiCall) -> Any:
        return self.storage.get_volume_yaml(call.path["project_id"], call.path["name"])

    @route(
        "DELETE",
        f"{P}/storage/volumes/<name>",
        summary="Delete a released PersistentVolume",
        tag="storage",
        area="storage",
        action="delete_pv",
    )
    def delete_volume(self, call: ApiCall) -> Any:
        return self.storage.delete_volume(call.path["project_id"], call.path["name"], call.user_id)
