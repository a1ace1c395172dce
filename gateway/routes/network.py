"""Services and Ingresses of a project, and their load balancers (network service).

Area `network` of the permission matrix (every member of the project). The namespace is named
in the body (create, update, YAML) or the query string (list, delete); the network service
checks that it belongs to the project. A LoadBalancer Service's answer carries
`load_balancer` {state: allocated|pending, address, reason}.
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from gateway.api import ApiCall, route
from shared.schemas import StrictSchema

P = "/api/v1/projects/<project_id>"
NAMESPACE = fields.String(
    required=True, validate=validate.Regexp(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
)
KIND = fields.String(load_default="Service", validate=validate.OneOf(("Service", "Ingress")))


class PortSchema(StrictSchema):
    name = fields.String(load_default=None)
    port = fields.Integer(required=True, strict=True, validate=validate.Range(1, 65535))
    target_port = fields.Raw(load_default=None)
    protocol = fields.String(load_default="TCP", validate=validate.OneOf(("TCP", "UDP", "SCTP")))
    node_port = fields.Integer(
        strict=True, load_default=None, validate=validate.Range(30000, 32767)
    )


class RuleSchema(StrictSchema):
    host = fields.String(load_default=None, validate=validate.Length(max=253))
    path = fields.String(load_default="/")
    path_type = fields.String(load_default="Prefix")
    service = fields.String(required=True)
    port = fields.Integer(required=True, strict=True, validate=validate.Range(1, 65535))


class NetworkFormSchema(StrictSchema):
    """A Service (kind Service: type, ports, selector) or an Ingress (kind Ingress: rules), or
    one YAML document (`yaml`) of either kind."""

    namespace = NAMESPACE
    kind = KIND
    name = fields.String(load_default=None, validate=validate.Length(1, 63))
    type = fields.String(
        load_default=None, validate=validate.OneOf(("ClusterIP", "NodePort", "LoadBalancer"))
    )
    ports = fields.List(fields.Nested(PortSchema), load_default=None)
    selector = fields.Dict(keys=fields.String(), values=fields.String(), load_default=None)
    rules = fields.List(fields.Nested(RuleSchema), load_default=None)
    ingress_class = fields.String(load_default=None)
    labels = fields.Dict(keys=fields.String(), values=fields.String(), load_default=None)


class NetworkCreateSchema(NetworkFormSchema):
    yaml = fields.String(load_default=None, validate=validate.Length(1, 1024 * 1024))


class NetworkYamlSchema(StrictSchema):
    namespace = NAMESPACE
    kind = KIND
    yaml = fields.String(required=True, validate=validate.Length(1, 1024 * 1024))


class NetworkQuerySchema(StrictSchema):
    namespace = fields.String(load_default=None)


class NetworkTargetSchema(StrictSchema):
    namespace = NAMESPACE
    kind = KIND


def _form(body: dict[str, Any]) -> dict[str, Any]:
    """The service's form: the body without the namespace and without unset fields."""
    return {k: v for k, v in body.items() if k != "namespace" and v is not None}


class NetworkRoutes:
    network: Any  # RpcProxy declared on GatewayService

    @route(
        "GET",
        f"{P}/services",
        summary="Services and Ingresses of the project",
        tag="network",
        area="network",
        action="view",
        query=NetworkQuerySchema(),
    )
    def list_network_objects(self, call: ApiCall) -> Any:
        return self.network.list_objects(call.path["project_id"], call.query["namespace"])

    @route(
        "POST",
        f"{P}/services",
        summary="Create a Service or an Ingress",
        tag="network",
        area="network",
        action="create",
        body=NetworkCreateSchema(),
        status=201,
    )
    def create_network_object(self, call: ApiCall) -> Any:
        if call.body["yaml"] is not None:
            return self.network.create_from_yaml(
                call.path["project_id"], call.body["namespace"], call.body["yaml"], call.user_id
            )
        return self.network.create_object(
            call.path["project_id"], call.body["namespace"], _form(call.body), call.user_id
        )

    @route(
        "PUT",
        f"{P}/services/<name>",
        summary="Update a Service or an Ingress",
        tag="network",
        area="network",
        action="update",
        body=NetworkFormSchema(),
    )
    def update_network_object(self, call: ApiCall) -> Any:
        form = {**_form(call.body), "name": call.path["name"]}
        return self.network.update_object(
            call.path["project_id"], call.body["namespace"], call.path["name"], form, call.user_id
        )

    @route(
        "PUT",
        f"{P}/services/<name>/yaml",
        summary="Replace a Service or Ingress from YAML",
        tag="network",
        area="network",
        action="edit_yaml",
        body=NetworkYamlSchema(),
    )
    def replace_network_yaml(self, call: ApiCall) -> Any:
        return self.network.replace_yaml(
            call.path["project_id"],
            call.body["namespace"],
            call.body["kind"],
            call.path["name"],
            call.body["yaml"],
            call.user_id,
        )

    @route(
        "DELETE",
        f"{P}/services/<name>",
        summary="Delete a Service or an Ingress",
        tag="network",
        area="network",
        action="delete",
        query=NetworkTargetSchema(),
    )
    def delete_network_object(self, call: ApiCall) -> Any:
        return self.network.delete_object(
            call.path["project_id"],
            call.query["namespace"],
            call.query["kind"],
            call.path["name"],
            call.user_id,
        )
