"""The configuration centre: ConfigMaps and Secrets of a project's namespaces (config service).

Every project role may view and edit configuration (matrix area `config`). A Secret's values
are masked for everyone unless the request says `?reveal=true`, and only the project's admins
(project admin, department admin, cloud admin) may reveal: an ordinary user asking to reveal
gets 403 `reveal_forbidden`.
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from gateway.api import ApiCall, route
from shared.errors import Forbidden, registered
from shared.schemas import StrictSchema

P = "/api/v1/projects/<project_id>"
KINDS = ("ConfigMap", "Secret")
REVEALING_ROLES = frozenset({"cloud_admin", "department_admin", "project_admin"})


@registered
class RevealForbidden(Forbidden):
    code = "reveal_forbidden"


class TargetQuerySchema(StrictSchema):
    namespace = fields.String(required=True, validate=validate.Length(min=1, max=63))
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))


class ViewQuerySchema(TargetQuerySchema):
    reveal = fields.Boolean(load_default=False)


class ListQuerySchema(StrictSchema):
    namespace = fields.String(required=True, validate=validate.Length(min=1, max=63))
    kind = fields.String(load_default=None, validate=validate.OneOf(KINDS))
    reveal = fields.Boolean(load_default=False)


class ConfigFormSchema(StrictSchema):
    namespace = fields.String(required=True, validate=validate.Length(min=1, max=63))
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    data = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    labels = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    type = fields.String(load_default="Opaque", validate=validate.Length(min=1, max=253))


class CreateConfigSchema(ConfigFormSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=253))


class EditYamlSchema(StrictSchema):
    namespace = fields.String(required=True, validate=validate.Length(min=1, max=63))
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    yaml = fields.String(required=True, validate=validate.Length(min=1))


class ConfigRoutes:
    config: Any  # RpcProxy declared on GatewayService
    auth: Any

    def _may_reveal(self, call: ApiCall) -> bool:
        if not call.query.get("reveal"):
            return False
        answer = self.auth.authorize(
            call.user_id, "config", "view", project_id=call.path["project_id"]
        )
        if answer.get("role") not in REVEALING_ROLES:
            raise RevealForbidden(
                "only the project's admins may reveal Secret values",
                {"location": "query", "fields": {"reveal": ["not allowed for your role"]}},
            )
        return True

    @route(
        "GET",
        f"{P}/config",
        summary="ConfigMaps and Secrets of a namespace",
        tag="config",
        area="config",
        action="view",
        query=ListQuerySchema(),
    )
    def list_config(self, call: ApiCall) -> Any:
        items = self.config.list_config(
            call.path["project_id"],
            call.query["namespace"],
            call.query["kind"],
            self._may_reveal(call),
        )
        return {"items": items}

    @route(
        "GET",
        f"{P}/config/<name>",
        summary="One ConfigMap or Secret",
        tag="config",
        area="config",
        action="view",
        query=ViewQuerySchema(),
    )
    def get_config(self, call: ApiCall) -> Any:
        return self.config.get_config(
            call.path["project_id"],
            call.query["namespace"],
            call.query["kind"],
            call.path["name"],
            self._may_reveal(call),
        )

    @route(
        "GET",
        f"{P}/config/<name>/yaml",
        summary="One ConfigMap or Secret as YAML",
        tag="config",
        area="config",
        action="view",
        query=ViewQuerySchema(),
    )
    def get_config_yaml(self, call: ApiCall) -> Any:
        return self.config.get_config_yaml(
            call.path["project_id"],
            call.query["namespace"],
            call.query["kind"],
            call.path["name"],
            self._may_reveal(call),
        )

    @route(
        "POST",
        f"{P}/config",
        summary="Create a ConfigMap or Secret",
        tag="config",
        area="config",
        action="create",
        body=CreateConfigSchema(),
        status=201,
    )
    def create_config(self, call: ApiCall) -> Any:
        body = call.body
        return self.config.create_config(
            call.path["project_id"],
            body["namespace"],
            body["kind"],
            body["name"],
            body["data"],
            body["labels"],
            body["type"],
            call.user_id,
        )

    @route(
        "PUT",
        f"{P}/config/<name>",
        summary="Replace the data of a ConfigMap or Secret",
        tag="config",
        area="config",
        action="update",
        body=ConfigFormSchema(),
    )
    def update_config(self, call: ApiCall) -> Any:
        body = call.body
        return self.config.update_config(
            call.path["project_id"],
            body["namespace"],
            body["kind"],
            call.path["name"],
            body["data"],
            body["labels"],
            body["type"],
            call.user_id,
        )

    @route(
        "PUT",
        f"{P}/config/<name>/yaml",
        summary="Replace a ConfigMap or Secret by YAML",
        tag="config",
        area="config",
        action="edit_yaml",
        body=EditYamlSchema(),
    )
    def edit_config_yaml(self, call: ApiCall) -> Any:
        body = call.body
        return self.config.edit_config_yaml(
            call.path["project_id"],
            body["namespace"],
            body["kind"],
            call.path["name"],
            body["yaml"],
            call.user_id,
        )

    @route(
        "DELETE",
        f"{P}/config/<name>",
        summary="Delete a ConfigMap or Secret",
        tag="config",
        area="config",
        action="delete",
        query=TargetQuerySchema(),
    )
    def delete_config(self, call: ApiCall) -> Any:
        return self.config.delete_config(
            call.path["project_id"],
            call.query["namespace"],
            call.query["kind"],
            call.path["name"],
            call.user_id,
        )
