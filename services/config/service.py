"""nameko entrypoints of the config service (ConfigMaps and Secrets); rules in objects.py.

Callers: the gateway (the configuration centre API, already authorised per the matrix; it
decides whether the caller may reveal Secret values) and the workload service, which applies
the ConfigMaps and Secrets a workload YAML carries through `apply_manifest`/`delete_object`.
cluster.py is the only module that talks to Kubernetes. No log line, event or error carries a
Secret's value: logs and events name kind, namespace, name and keys.
"""

from __future__ import annotations

import logging
from typing import Any

from services.config import objects
from services.config import schemas as s
from services.config.cluster import KubernetesConfig
from services.config.exceptions import ConfigNotFound, NamespaceNotInProject, invalid
from services.config.models import OutboxEvent
from shared.context import RequestContext
from shared.db import DatabaseProvider
from shared.errors import ScsError
from shared.events import new_event, record_event
from shared.health import HealthRpc
from shared.outbox import OutboxRelay
from shared.rpc import rpc

logger = logging.getLogger(__name__)

PROJECT_LABEL = "scs.io/project"
MANAGED_LABEL = "scs.io/managed"


class ConfigService(HealthRpc):
    """The configuration centre: ConfigMaps and Secrets in a project's namespaces."""

    name = "config"

    db = DatabaseProvider("config")
    context = RequestContext()
    relay = OutboxRelay("config", OutboxEvent)
    kube = KubernetesConfig()

    # -- reading ----------------------------------------------------------------------------

    @rpc(expected_exceptions=ScsError)
    def list_config(
        self, project_id: str, namespace: str, kind: str | None = None, reveal: bool = False
    ) -> list[dict[str, Any]]:
        """ConfigMaps and Secrets of a namespace (Secret values masked unless reveal)."""
        args = s.load_args(
            s.ListSchema(),
            {"project_id": project_id, "namespace": namespace, "kind": kind, "reveal": reveal},
        )
        self._check_namespace(args["project_id"], args["namespace"])
        kinds = [args["kind"]] if args["kind"] else list(objects.KINDS)
        found = [obj for k in kinds for obj in self.kube.list(k, args["namespace"])]
        return [objects.describe(obj, args["reveal"]) for obj in found]

    @rpc(expected_exceptions=ScsError)
    def get_config(
        self, project_id: str, namespace: str, kind: str, name: str, reveal: bool = False
    ) -> dict[str, Any]:
        args = self._object_args(project_id, namespace, kind, name, reveal=reveal)
        obj = self.kube.read(args["kind"], args["namespace"], args["name"])
        return objects.describe(obj, args["reveal"])

    @rpc(expected_exceptions=ScsError)
    def get_config_yaml(
        self, project_id: str, namespace: str, kind: str, name: str, reveal: bool = False
    ) -> dict[str, Any]:
        """{"yaml": "..."} for editing; a Secret's values are "******" unless reveal."""
        args = self._object_args(project_id, namespace, kind, name, reveal=reveal)
        obj = self.kube.read(args["kind"], args["namespace"], args["name"])
        return {"yaml": objects.as_yaml(obj, args["reveal"])}

    # -- writing ----------------------------------------------------------------------------

    @rpc(expected_exceptions=ScsError)
    def create_config(
        self,
        project_id: str,
        namespace: str,
        kind: str,
        name: str,
        data: dict[str, str],
        labels: dict[str, str] | None = None,
        secret_type: str = "Opaque",
        actor: str | None = None,
    ) -> dict[str, Any]:
        """Create from the form (text values). Raises ConfigExists, InvalidConfig."""
        args = self._write_args(locals())
        self._check_namespace(args["project_id"], args["namespace"])
        body = objects.build(
            args["kind"],
            args["namespace"],
            args["name"],
            args["data"],
            args["labels"],
            args["secret_type"],
        )
        if args["kind"] == "Secret" and objects.MASK in args["data"].values():
            raise invalid("data", f"{objects.MASK!r} keeps a stored value; nothing is stored")
        created = self.kube.create(body, objects.secret_values(body))
        return self._written("config.created", project_id, created, args["actor"])

    @rpc(expected_exceptions=ScsError)
    def update_config(
        self,
        project_id: str,
        namespace: str,
        kind: str,
        name: str,
        data: dict[str, str],
        labels: dict[str, str] | None = None,
        secret_type: str = "Opaque",
        actor: str | None = None,
    ) -> dict[str, Any]:
        """Replace the data (a Secret value "******" keeps the stored one)."""
        args = self._write_args(locals())
        self._check_namespace(args["project_id"], args["namespace"])
        current = self.kube.read(args["kind"], args["namespace"], args["name"])
        body = objects.build(
            args["kind"],
            args["namespace"],
            args["name"],
            args["data"],
            args["labels"],
            args["secret_type"],
        )
        return self._replace(project_id, body, current, args["actor"])

    @rpc(expected_exceptions=ScsError)
    def edit_config_yaml(
        self,
        project_id: str,
        namespace: str,
        kind: str,
        name: str,
        yaml: str,
        actor: str | None = None,
    ) -> dict[str, Any]:
        """Replace the object with one YAML document naming the same kind and name."""
        args = s.load_args(
            s.YamlSchema(),
            {
                "project_id": project_id,
                "namespace": namespace,
                "kind": kind,
                "name": name,
                "yaml": yaml,
                "actor": actor,
            },
        )
        self._check_namespace(args["project_id"], args["namespace"])
        body = objects.from_manifest(objects.parse_yaml(args["yaml"]), args["namespace"])
        if (body["kind"], body["metadata"]["name"]) != (args["kind"], args["name"]):
            raise invalid("yaml", "kind and metadata.name must match the object edited")
        current = self.kube.read(args["kind"], args["namespace"], args["name"])
        return self._replace(project_id, body, current, args["actor"])

    @rpc(expected_exceptions=ScsError)
    def delete_config(
        self, project_id: str, namespace: str, kind: str, name: str, actor: str | None = None
    ) -> dict[str, Any]:
        args = self._object_args(project_id, namespace, kind, name, actor=actor)
        current = self.kube.read(args["kind"], args["namespace"], args["name"])
        self.kube.delete(args["kind"], args["namespace"], args["name"])
        self._written("config.deleted", project_id, current, args["actor"])
        return objects.ref(current) | {"deleted": True}

    # -- the cross-service contract ------------------------------------------------------------

    @rpc(expected_exceptions=ScsError)
    def apply_manifest(
        self, project_id: str, namespace: str, manifest: dict[str, Any], actor: str | None = None
    ) -> dict[str, Any]:
        """Create or replace a ConfigMap or Secret a workload YAML carries.

        -> {"kind", "namespace", "name", "uid"}. Raises NotOwnedKind for other kinds.
        """
        args = s.load_args(
            s.ApplySchema(),
            {
                "project_id": project_id,
                "namespace": namespace,
                "manifest": manifest,
                "actor": actor,
            },
        )
        self._check_namespace(args["project_id"], args["namespace"])
        body = objects.from_manifest(args["manifest"], args["namespace"])
        try:
            current = self.kube.read(body["kind"], args["namespace"], body["metadata"]["name"])
        except ConfigNotFound:
            created = self.kube.create(
                objects.keep_masked(body, None), objects.secret_values(body)
            )
            self._written("config.created", project_id, created, args["actor"])
            return objects.ref(created)
        return objects.ref(self._replace(project_id, body, current, args["actor"], describe=False))

    @rpc(expected_exceptions=ScsError)
    def delete_object(
        self, project_id: str, namespace: str, kind: str, name: str, actor: str | None = None
    ) -> dict[str, Any]:
        """Delete a ConfigMap or Secret; deleting one that is gone answers deleted=false."""
        args = s.load_args(
            s.DeleteObjectSchema(),
            {
                "project_id": project_id,
                "namespace": namespace,
                "kind": kind,
                "name": name,
                "actor": actor,
            },
        )
        objects.check_kind(args["kind"])
        try:
            return self.delete_config(project_id, namespace, kind, name, actor)
        except ConfigNotFound:
            return {
                "kind": kind,
                "namespace": namespace,
                "name": name,
                "uid": None,
                "deleted": False,
            }

    # -- helpers ------------------------------------------------------------------------------

    def _object_args(
        self, project_id: str, namespace: str, kind: str, name: str, **extra: Any
    ) -> dict[str, Any]:
        args = s.load_args(
            s.ObjectSchema(),
            {
                "project_id": project_id,
                "namespace": namespace,
                "kind": kind,
                "name": name,
                **extra,
            },
        )
        self._check_namespace(args["project_id"], args["namespace"])
        return args

    def _write_args(self, given: dict[str, Any]) -> dict[str, Any]:
        keys = (
            "project_id",
            "namespace",
            "kind",
            "name",
            "data",
            "labels",
            "secret_type",
            "actor",
        )
        args = s.load_args(s.WriteSchema(), {k: given[k] for k in keys if given[k] is not None})
        return args

    def _replace(
        self,
        project_id: str,
        body: dict[str, Any],
        current: dict[str, Any],
        actor: str | None,
        describe: bool = True,
    ) -> dict[str, Any]:
        body = objects.keep_masked(body, current)
        body["metadata"]["resourceVersion"] = current["metadata"].get("resourceVersion")
        replaced = self.kube.replace(body, objects.secret_values(body))
        answer = self._written("config.updated", project_id, replaced, actor)
        return answer if describe else replaced

    def _written(
        self, event_type: str, project_id: str, obj: dict[str, Any], actor: str | None
    ) -> dict[str, Any]:
        obj.setdefault("kind", "Secret" if "type" in obj else "ConfigMap")
        actor = actor or self.context.actor
        envelope = new_event(
            event_type,
            actor=actor,
            project=project_id,
            resource=objects.ref(obj),
            data=objects.event_data(obj),
        )
        with self.db.transaction() as session:
            record_event(session, OutboxEvent, envelope)
        meta = obj["metadata"]
        logger.info(
            "%s kind=%s namespace=%s name=%s project=%s keys=%d",
            event_type,
            obj["kind"],
            meta.get("namespace"),
            meta.get("name"),
            project_id,
            len(objects.keys_of(obj)),
        )
        return objects.describe(obj, reveal=False)

    def _check_namespace(self, project_id: str, namespace: str) -> None:
        try:
            labels = (self.kube.get_namespace(namespace).get("metadata") or {}).get("labels")
        except ConfigNotFound:
            labels = None
        labels = labels or {}
        if labels.get(MANAGED_LABEL) != "true" or labels.get(PROJECT_LABEL) != project_id:
            raise NamespaceNotInProject(
                f"namespace {namespace} is not a namespace of this project",
                {"namespace": namespace, "project_id": project_id},
            )
