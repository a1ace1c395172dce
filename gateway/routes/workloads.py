"""Workloads of a project's namespaces and their pods (workload service).

Every route names the namespace: in the body when creating, in the query string otherwise
(`?namespace=vision-dev`). Workload names are unique per namespace across the five kinds.
`GET .../pods/<name>/logs?follow=true` streams the log (gateway/log_stream.py) and
`GET .../pods/<name>/exec` is the terminal over a WebSocket (gateway/terminal.py).
`PUT .../workloads/<name>/network` sets the workload's Service and Ingress (the workload service
asks the network service, which owns them).
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from gateway.api import ApiCall, route
from gateway.log_stream import follow_response
from gateway.terminal import require_upgrade, terminal_response
from shared.schemas import StrictSchema

P = "/api/v1/projects/<project_id>"
W = f"{P}/workloads/<name>"
DNS_LABEL = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
TAG = "workloads"


def _namespace(**kwargs: Any) -> fields.String:
    return fields.String(
        validate=validate.Regexp(DNS_LABEL, error="not a namespace name"), **kwargs
    )


class WorkloadNamespaceQuerySchema(StrictSchema):
    namespace = _namespace(required=True)


class WorkloadListQuerySchema(StrictSchema):
    namespace = _namespace(load_default=None)


class CreateWorkloadSchema(StrictSchema):
    namespace = _namespace(required=True)
    # YAML/JSON text (one or more documents), or a list of objects
    manifest = fields.Raw(load_default=None)
    form = fields.Dict(load_default=None)

    @validates_schema
    def _one_source(self, data: dict[str, Any], **_: Any) -> None:
        manifest, form = data.get("manifest"), data.get("form")
        if (manifest is None) == (form is None):
            raise ValidationError("give either manifest or form", "manifest")
        if manifest is not None and not isinstance(manifest, str | list | dict):
            raise ValidationError("YAML text or a list of objects", "manifest")


class WorkloadYamlSchema(StrictSchema):
    manifest = fields.Raw(required=True)

    @validates_schema
    def _text_or_object(self, data: dict[str, Any], **_: Any) -> None:
        if not isinstance(data.get("manifest"), str | dict):
            raise ValidationError("YAML text or an object", "manifest")


class WorkloadScaleSchema(StrictSchema):
    replicas = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=1000))


class WorkloadRollbackSchema(StrictSchema):
    revision = fields.Integer(load_default=None, strict=True, validate=validate.Range(min=1))


class WorkloadContainersSchema(StrictSchema):
    # checked field by field by the workload service (UpdateSchema)
    containers = fields.List(fields.Dict(), required=True, validate=validate.Length(min=1))


class WorkloadLabelsSchema(StrictSchema):
    labels = fields.Dict(
        keys=fields.String(), values=fields.String(allow_none=True), required=True
    )


class WorkloadPolicySchema(StrictSchema):
    """Passed on as it is; the workload service validates it (Strategy/Scheduling/Autoscaling)."""

    class Meta:
        unknown = "include"


class WorkloadNetworkSchema(StrictSchema):
    """{"service": {"type", "ports": [{"name", "port", "target_port", "protocol"}]} | null,
    "ingress": {"host", "path", "path_type", "port"} | null}; checked field by field by the
    workload service (NetworkSettingsSchema), which names each field by its path."""

    service = fields.Dict(required=True, allow_none=True)
    ingress = fields.Dict(load_default=None, allow_none=True)


class PodLogQuerySchema(WorkloadNamespaceQuerySchema):
    container = fields.String()
    tail_lines = fields.Integer(validate=validate.Range(min=1, max=100_000))
    since_seconds = fields.Integer(validate=validate.Range(min=1))
    previous = fields.Boolean(load_default=False)
    limit_bytes = fields.Integer(validate=validate.Range(min=1, max=10 * 2**20))
    # a chunked text/plain stream until the pod ends, the client leaves or max_seconds pass
    follow = fields.Boolean(load_default=False)
    max_seconds = fields.Integer(validate=validate.Range(min=1, max=24 * 3600))

    @validates_schema
    def _follow_only(self, data: dict[str, Any], **_: Any) -> None:
        if "max_seconds" in data and not data.get("follow"):
            raise ValidationError("only with follow=true", "max_seconds")


class TerminalQuerySchema(WorkloadNamespaceQuerySchema):
    container = fields.String(load_default=None)
    # one shell-like string ("sh -c 'ls /'"), split by the workload service; no shell runs it
    command = fields.String(required=True, validate=validate.Length(min=1, max=4096))


def _route(method: str, path: str, action: str, summary: str, **kwargs: Any) -> Any:
    return route(method, path, summary=summary, tag=TAG, area="workloads", action=action, **kwargs)


class WorkloadRoutes:
    workload: Any  # RpcProxy declared on GatewayService
    log_streams: str  # LogStreams on GatewayService: the broker's address (logs, terminal)

    def _target(self, call: ApiCall) -> tuple[str, str, str]:
        return call.path["project_id"], call.query["namespace"], call.path["name"]

    @_route("GET", f"{P}/workloads", "view", "List workloads", query=WorkloadListQuerySchema())
    def list_workloads(self, call: ApiCall) -> Any:
        items = self.workload.list_workloads(call.path["project_id"], call.query["namespace"])
        return {"items": items, "total": len(items)}

    @_route(
        "POST",
        f"{P}/workloads",
        "create",
        "Create workloads from YAML (multi-document) or a form",
        body=CreateWorkloadSchema(),
        status=201,
    )
    def create_workload(self, call: ApiCall) -> Any:
        return self.workload.create_workload(
            call.path["project_id"],
            call.body["namespace"],
            manifest=call.body["manifest"],
            form=call.body["form"],
            actor=call.user_id,
        )

    @_route(
        "GET",
        W,
        "view",
        "A workload with its rollout status",
        query=WorkloadNamespaceQuerySchema(),
    )
    def get_workload(self, call: ApiCall) -> Any:
        return self.workload.get_workload(*self._target(call))

    @_route(
        "GET", f"{W}/revisions", "view", "Revision history", query=WorkloadNamespaceQuerySchema()
    )
    def list_revisions(self, call: ApiCall) -> Any:
        return {"items": self.workload.list_revisions(*self._target(call))}

    @_route("GET", f"{W}/pods", "view", "Pods of a workload", query=WorkloadNamespaceQuerySchema())
    def list_pods(self, call: ApiCall) -> Any:
        return {"items": self.workload.list_pods(*self._target(call))}

    @_route(
        "GET",
        f"{W}/metrics",
        "view",
        "CPU and memory per pod",
        query=WorkloadNamespaceQuerySchema(),
    )
    def workload_metrics(self, call: ApiCall) -> Any:
        return self.workload.get_metrics(*self._target(call))

    @_route(
        "PUT",
        f"{W}/containers",
        "configure_containers",
        "Image, env and resources of containers",
        body=WorkloadContainersSchema(),
        query=WorkloadNamespaceQuerySchema(),
    )
    def configure_containers(self, call: ApiCall) -> Any:
        change = {"containers": call.body["containers"]}
        return self.workload.update_workload(*self._target(call), change, actor=call.user_id)

    @_route(
        "PUT",
        f"{W}/labels",
        "labels",
        "Labels of the workload and its pods (null removes)",
        body=WorkloadLabelsSchema(),
        query=WorkloadNamespaceQuerySchema(),
    )
    def set_labels(self, call: ApiCall) -> Any:
        change = {"labels": call.body["labels"]}
        return self.workload.update_workload(*self._target(call), change, actor=call.user_id)

    @_route(
        "PUT",
        f"{W}/yaml",
        "edit_yaml",
        "Replace the workload from YAML (same kind and name; same checks as a create)",
        body=WorkloadYamlSchema(),
        query=WorkloadNamespaceQuerySchema(),
    )
    def edit_yaml(self, call: ApiCall) -> Any:
        return self.workload.edit_workload_yaml(
            *self._target(call), call.body["manifest"], actor=call.user_id
        )

    @_route(
        "PUT",
        f"{W}/scale",
        "scale",
        "Manual scale (quota-checked)",
        body=WorkloadScaleSchema(),
        query=WorkloadNamespaceQuerySchema(),
    )
    def scale_workload(self, call: ApiCall) -> Any:
        return self.workload.scale_workload(
            *self._target(call), call.body["replicas"], actor=call.user_id
        )

    @_route(
        "POST",
        f"{W}/rollback",
        "rollback",
        "Roll back to a revision (the previous one by default)",
        body=WorkloadRollbackSchema(),
        query=WorkloadNamespaceQuerySchema(),
    )
    def rollback_workload(self, call: ApiCall) -> Any:
        return self.workload.rollback_workload(
            *self._target(call), call.body["revision"], actor=call.user_id
        )

    @_route(
        "PUT",
        f"{W}/strategy",
        "update_strategy",
        "Rolling update strategy (maxSurge, maxUnavailable, partition)",
        body=WorkloadPolicySchema(),
        query=WorkloadNamespaceQuerySchema(),
    )
    def set_strategy(self, call: ApiCall) -> Any:
        return self.workload.set_update_strategy(
            *self._target(call), call.body, actor=call.user_id
        )

    @_route(
        "PUT",
        f"{W}/autoscaling",
        "scaling_policy",
        "Autoscaling policy on CPU and memory (autoscaling/v2)",
        body=WorkloadPolicySchema(),
        query=WorkloadNamespaceQuerySchema(),
    )
    def set_autoscaling(self, call: ApiCall) -> Any:
        return self.workload.set_autoscaling(*self._target(call), call.body, actor=call.user_id)

    @_route(
        "PUT",
        f"{W}/scheduling",
        "scheduling_policy",
        "Node selector, node affinity and tolerations",
        body=WorkloadPolicySchema(),
        query=WorkloadNamespaceQuerySchema(),
    )
    def set_scheduling(self, call: ApiCall) -> Any:
        return self.workload.set_scheduling(*self._target(call), call.body, actor=call.user_id)

    @_route(
        "GET",
        f"{W}/network",
        "view",
        "Network settings: the workload's Service (cluster IP, load balancer) and Ingress",
        query=WorkloadNamespaceQuerySchema(),
    )
    def get_network_settings(self, call: ApiCall) -> Any:
        return self.workload.get_network_settings(*self._target(call))

    @_route(
        "PUT",
        f"{W}/network",
        "network_settings",
        "Network settings: exposed ports, Service type (or none) and an optional Ingress",
        body=WorkloadNetworkSchema(),
        query=WorkloadNamespaceQuerySchema(),
    )
    def set_network_settings(self, call: ApiCall) -> Any:
        return self.workload.set_network_settings(
            *self._target(call), call.body, actor=call.user_id
        )

    @_route(
        "POST",
        f"{W}/stop",
        "start_stop",
        "Stop (scale to zero, suspend)",
        query=WorkloadNamespaceQuerySchema(),
    )
    def stop_workload(self, call: ApiCall) -> Any:
        return self.workload.stop_workload(*self._target(call), actor=call.user_id)

    @_route(
        "POST",
        f"{W}/start",
        "start_stop",
        "Start with the remembered replica count",
        query=WorkloadNamespaceQuerySchema(),
    )
    def start_workload(self, call: ApiCall) -> Any:
        return self.workload.start_workload(*self._target(call), actor=call.user_id)

    @_route(
        "POST",
        f"{W}/redeploy",
        "redeploy",
        "Rolling restart",
        query=WorkloadNamespaceQuerySchema(),
    )
    def redeploy_workload(self, call: ApiCall) -> Any:
        return self.workload.redeploy_workload(*self._target(call), actor=call.user_id)

    @_route(
        "POST",
        f"{W}/run",
        "run_cronjob",
        "Run a CronJob now",
        query=WorkloadNamespaceQuerySchema(),
        status=201,
    )
    def run_cronjob(self, call: ApiCall) -> Any:
        return self.workload.run_cronjob(*self._target(call), actor=call.user_id)

    @_route(
        "POST",
        f"{W}/suspend",
        "stop_cronjob",
        "Suspend a CronJob",
        query=WorkloadNamespaceQuerySchema(),
    )
    def suspend_cronjob(self, call: ApiCall) -> Any:
        return self.workload.stop_workload(*self._target(call), actor=call.user_id)

    @_route(
        "POST",
        f"{W}/resume",
        "stop_cronjob",
        "Resume a suspended CronJob",
        query=WorkloadNamespaceQuerySchema(),
    )
    def resume_cronjob(self, call: ApiCall) -> Any:
        return self.workload.start_workload(*self._target(call), actor=call.user_id)

    @_route(
        "DELETE",
        W,
        "delete",
        "Delete (cascading; releases quota)",
        query=WorkloadNamespaceQuerySchema(),
    )
    def delete_workload(self, call: ApiCall) -> Any:
        return self.workload.delete_workload(*self._target(call), actor=call.user_id)

    # -- pods ------------------------------------------------------------------------------

    @_route(
        "GET",
        f"{P}/pods/<name>/yaml",
        "view_pod_yaml",
        "A pod as YAML",
        query=WorkloadNamespaceQuerySchema(),
    )
    def pod_yaml(self, call: ApiCall) -> Any:
        return self.workload.get_pod_yaml(*self._target(call))

    @_route(
        "GET",
        f"{P}/pods/<name>/logs",
        "logs",
        "Container logs (tail, since, previous); follow=true streams text/plain",
        query=PodLogQuerySchema(),
    )
    def pod_logs(self, call: ApiCall) -> Any:
        options = {k: v for k, v in call.query.items() if k not in ("namespace", "follow")}
        if not call.query["follow"]:
            return self.workload.get_logs(*self._target(call), options)

        def start(queue: str) -> dict[str, Any]:
            answer: dict[str, Any] = self.workload.follow_logs(*self._target(call), options, queue)
            return answer

        return follow_response(self.log_streams, start, call.request, call.request_id)

    @_route(
        "GET",
        f"{P}/pods/<name>/exec",
        "terminal",
        "Terminal: exec in a container over a WebSocket (upgrade), transcript kept for audit",
        query=TerminalQuerySchema(),
        websocket=True,
    )
    def pod_terminal(self, call: ApiCall) -> Any:
        require_upgrade(call.request)
        project_id, namespace, pod = self._target(call)

        def open_session(queue: str) -> dict[str, Any]:
            answer: dict[str, Any] = self.workload.open_terminal(
                project_id,
                namespace,
                pod,
                call.query["container"],
                call.query["command"],
                queue,
                actor=call.user_id,
            )
            return answer

        return terminal_response(self.log_streams, open_session, call.request_id)

    @_route(
        "DELETE",
        f"{P}/pods/<name>",
        "delete_pod",
        "Delete a pod",
        query=WorkloadNamespaceQuerySchema(),
    )
    def delete_pod(self, call: ApiCall) -> Any:
        return self.workload.delete_pod(*self._target(call), actor=call.user_id)
