"""nameko entrypoints of the cluster service; the rules live in plainly named modules.

overview.py (cluster overview, node summaries), nodes.py (protected labels and taints),
namespaces.py (project namespaces and their setup handshake), custom_resources.py (CRDs and
custom resources); cluster.py is the only module that talks to Kubernetes.

Callers: the gateway (which has already authorised the caller per the permission matrix) and,
for namespaces, the services that set a new namespace up (they answer `namespace.setup_done`).
"""

from __future__ import annotations

import logging
from typing import Any

from nameko.dependency_providers import Config
from nameko.events import event_handler
from nameko.timer import timer

from services.cluster import custom_resources as cr
from services.cluster import namespaces as ns
from services.cluster import nodes, overview
from services.cluster import schemas as s
from services.cluster.cluster import KubernetesCluster
from services.cluster.exceptions import ClusterScopedRefused, NamespaceNotEmpty, ObjectExists
from services.cluster.models import OutboxEvent
from shared.context import RequestContext
from shared.db import DatabaseProvider
from shared.errors import ScsError
from shared.events import EVENT_SOURCE, new_event, record_event
from shared.health import HealthRpc
from shared.outbox import OutboxRelay
from shared.rpc import rpc

logger = logging.getLogger(__name__)

# A namespace still pending this long after its announcement is announced again, up to
# MAX_ANNOUNCEMENTS times in all (then it stays pending for an operator to look at).
REANNOUNCE_INTERVAL_SECONDS = 30
REANNOUNCE_AFTER_SECONDS = 60
MAX_ANNOUNCEMENTS = 10


class ClusterService(HealthRpc):
    """Cluster administration for cloud admins and project namespaces for project admins."""

    name = "cluster"

    db = DatabaseProvider("cluster")
    context = RequestContext()
    relay = OutboxRelay("cluster", OutboxEvent)
    kube = KubernetesCluster()
    config = Config()

    # -- overview and nodes ------------------------------------------------------------------

    @rpc(expected_exceptions=ScsError)
    def overview(self) -> dict[str, Any]:
        """{"kubernetes_version", "nodes": {"total", "ready", "by_role", "by_architecture",
        "gpu_products", ...}, "resources": {"capacity"|"allocatable"|"allocated":
        {"cpu", "memory", "gpu", "pods"}}, "runtime_classes": [...]}."""
        return overview.cluster_overview(
            self.kube.version(),
            self.kube.list_nodes(),
            self.kube.list_pods(),
            self.kube.list_runtime_classes(),
        )

    @rpc(expected_exceptions=ScsError)
    def list_nodes(self) -> list[dict[str, Any]]:
        return overview.node_summaries(self.kube.list_nodes(), self.kube.list_pods())

    @rpc(expected_exceptions=ScsError)
    def get_node(self, name: str) -> dict[str, Any]:
        """Node detail (conditions, capacity, labels, taints, pods). Raises ObjectNotFound."""
        args = s.load_args(s.NodeNameSchema(), {"name": name})
        node = self.kube.get_node(args["name"])
        pods = self.kube.list_pods(field_selector=f"spec.nodeName={args['name']}")
        return overview.node_detail(node, pods)

    @rpc(expected_exceptions=ScsError)
    def cordon_node(self, name: str, unschedulable: bool = True) -> dict[str, Any]:
        """Cordon (or, with unschedulable=False, uncordon) a node; idempotent."""
        args = s.load_args(s.NodeNameSchema(), {"name": name})
        node = self.kube.patch_node(args["name"], nodes.cordon_patch(unschedulable))
        event = "node.cordoned" if unschedulable else "node.uncordoned"
        self._node_event(event, node, {"unschedulable": unschedulable})
        logger.info("%s node=%s actor=%s", event, name, self.context.actor)
        return overview.node_detail(node, [])

    @rpc(expected_exceptions=ScsError)
    def edit_node_labels(
        self, name: str, add: dict[str, str] | None = None, remove: list[str] | None = None
    ) -> dict[str, Any]:
        """Add or change labels and remove labels. Raises ProtectedNodeMetadata."""
        args = s.load_args(
            s.EditLabelsSchema(), {"name": name, "add": add or {}, "remove": remove or []}
        )
        current = self.kube.get_node(args["name"])["metadata"].get("labels") or {}
        patch = nodes.label_patch(current, args["add"], args["remove"])
        node = self.kube.patch_node(args["name"], patch)
        self._node_event(
            "node.labels_changed", node, {"added": args["add"], "removed": args["remove"]}
        )
        logger.info("node labels changed node=%s actor=%s", name, self.context.actor)
        return overview.node_detail(node, [])

    @rpc(expected_exceptions=ScsError)
    def edit_node_taints(
        self,
        name: str,
        add: list[dict[str, Any]] | None = None,
        remove: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Add taints and remove taints (by key, or key and effect). Raises
        ProtectedNodeMetadata; ObjectExists when the node changed meanwhile (retry)."""
        args = s.load_args(
            s.EditTaintsSchema(), {"name": name, "add": add or [], "remove": remove or []}
        )
        current = self.kube.get_node(args["name"])
        patch = nodes.taint_patch(current, args["add"], args["remove"])
        node = self.kube.patch_node(args["name"], patch)
        self._node_event(
            "node.taints_changed", node, {"added": args["add"], "removed": args["remove"]}
        )
        logger.info("node taints changed node=%s actor=%s", name, self.context.actor)
        return overview.node_detail(node, [])

    def _node_event(self, event_type: str, node: dict[str, Any], data: dict[str, Any]) -> None:
        meta = node["metadata"]
        envelope = new_event(
            event_type,
            actor=self.context.actor,
            resource={"kind": "Node", "name": meta["name"], "uid": meta.get("uid")},
            data={"node": meta["name"], **data},
        )
        with self.db.transaction() as session:
            record_event(session, OutboxEvent, envelope)

    # -- namespaces --------------------------------------------------------------------------

    @rpc(expected_exceptions=ScsError)
    def create_namespace(
        self, project_id: str, name: str, actor: str | None = None
    ) -> dict[str, Any]:
        """Create a project namespace (labels scs.io/project, managed, tenant); idempotent
        for the same project. Raises InvalidInput, ObjectExists (another owner)."""
        args = s.load_args(
            s.CreateNamespaceSchema(),
            {"project_id": project_id, "name": name, "actor": actor or self.context.actor},
        )
        ns.check_name(args["name"])
        labels = ns.project_labels(args["project_id"])
        try:
            created = self.kube.create_namespace(args["name"], labels)
        except ObjectExists:
            # A retry of our own create is adopted; another owner's namespace is not.
            created = self.kube.get_namespace(args["name"])
            if ns.owner_of(created) != args["project_id"]:
                raise
        with self.db.transaction() as session:
            row = ns.record_created(session, created, args["project_id"], args["actor"])
            answer = ns.describe(created, row, ns.steps_done(session, row.name), self._steps())
        logger.info("namespace created namespace=%s project=%s", name, project_id)
        return answer

    @rpc(expected_exceptions=ScsError)
    def list_namespaces(self, project_id: str) -> list[dict[str, Any]]:
        live = self.kube.list_namespaces(
            f"{ns.PROJECT_LABEL}={project_id},{ns.MANAGED_LABEL}=true"
        )
        with self.db.transaction() as session:
            rows = ns.rows_by_name(session, [n["metadata"]["name"] for n in live])
            return [
                ns.describe(
                    n,
                    rows.get(n["metadata"]["name"]),
                    ns.steps_done(session, n["metadata"]["name"]),
                    self._steps(),
                )
                for n in live
            ]

    @rpc(expected_exceptions=ScsError)
    def get_namespace(self, project_id: str, name: str) -> dict[str, Any]:
        """Raises NamespaceNotInProject (also for a namespace that does not exist)."""
        live = self._project_namespace(project_id, name)
        with self.db.transaction() as session:
            rows = ns.rows_by_name(session, [name])
            return ns.describe(live, rows.get(name), ns.steps_done(session, name), self._steps())

    @rpc(expected_exceptions=ScsError)
    def delete_namespace(
        self, project_id: str, name: str, actor: str | None = None, force: bool = False
    ) -> dict[str, Any]:
        """Delete a project namespace; refused with NamespaceNotEmpty while it holds
        workloads, unless force. Emits namespace.deleted (the owners of quota and addresses
        release what they hold there)."""
        args = s.load_args(
            s.DeleteNamespaceSchema(),
            {
                "project_id": project_id,
                "name": name,
                "actor": actor or self.context.actor,
                "force": force,
            },
        )
        self._project_namespace(args["project_id"], args["name"])
        held = {k: v for k, v in self.kube.count_workloads(args["name"]).items() if v}
        if held and not args["force"]:
            raise NamespaceNotEmpty(
                f"namespace {name} still holds workloads; delete them or use force",
                {"namespace": name, "workloads": held},
            )
        self.kube.delete_namespace(args["name"])
        with self.db.transaction() as session:
            ns.record_deleted(session, name, project_id, args["actor"], args["force"], held)
        logger.info("namespace deleted namespace=%s project=%s forced=%s", name, project_id, force)
        return {"name": name, "project_id": project_id, "deleted": True, "workloads": held}

    @event_handler(EVENT_SOURCE, "namespace.setup_done")
    def handle_namespace_setup_done(self, event: dict[str, Any]) -> None:
        data = event.get("data") or {}
        name, step = data.get("namespace"), data.get("step")
        if not isinstance(name, str) or step not in ns.KNOWN_STEPS:
            logger.warning("ignoring namespace.setup_done %s: bad data", event.get("id"))
            return
        with self.db.transaction() as session:
            row = ns.record_step(session, name, step, event.get("id"), self._steps())
            status = row.status if row is not None else "unknown"
        logger.info("namespace setup step done namespace=%s step=%s status=%s", name, step, status)

    @timer(interval=REANNOUNCE_INTERVAL_SECONDS)
    def reannounce_pending(self) -> None:
        """Announce `namespace.created` again for namespaces whose setup did not finish."""
        with self.db.transaction() as session:
            names = ns.reannounce_stale(session, REANNOUNCE_AFTER_SECONDS, MAX_ANNOUNCEMENTS)
        if names:
            logger.info("namespaces re-announced (setup pending): %s", ", ".join(names))

    def _steps(self) -> tuple[str, ...]:
        return ns.required_steps(self.config.get("NAMESPACE_SETUP_STEPS"))

    def _project_namespace(self, project_id: str, name: str) -> dict[str, Any]:
        try:
            live = self.kube.get_namespace(name)
        except ScsError as exc:
            if exc.code != "object_not_found":
                raise
            live = {"metadata": {"name": name}}
        ns.ensure_in_project(live, project_id)
        return live

    # -- CRDs and custom resources -----------------------------------------------------------

    @rpc(expected_exceptions=ScsError)
    def import_crd(
        self, manifest: dict[str, Any] | None = None, yaml: str | None = None
    ) -> dict[str, Any]:
        """Create a CustomResourceDefinition from a manifest or one YAML document."""
        args = s.load_args(s.ManifestSchema(), {"manifest": manifest, "yaml": yaml})
        body = cr.parse_manifest(args["manifest"], args["yaml"])
        cr.check_crd(body)
        created = self.kube.create_crd(body)
        summary = cr.crd_summary(created)
        envelope = new_event(
            "crd.imported",
            actor=self.context.actor,
            resource={
                "kind": "CustomResourceDefinition",
                "name": summary["name"],
                "uid": created["metadata"].get("uid"),
            },
            data={k: summary[k] for k in ("group", "kind", "plural", "scope", "versions")},
        )
        with self.db.transaction() as session:
            record_event(session, OutboxEvent, envelope)
        logger.info("crd imported crd=%s actor=%s", summary["name"], self.context.actor)
        return summary

    @rpc(expected_exceptions=ScsError)
    def list_crds(self) -> list[dict[str, Any]]:
        return [cr.crd_summary(crd) for crd in self.kube.list_crds()]

    @rpc(expected_exceptions=ScsError)
    def import_custom_resource(
        self,
        project_id: str,
        namespace: str | None = None,
        manifest: dict[str, Any] | None = None,
        yaml: str | None = None,
        actor: str | None = None,
        allow_cluster_scoped: bool = False,
    ) -> dict[str, Any]:
        """Create a custom resource in one of the project's namespaces. Raises
        NamespaceNotInProject, ClusterScopedRefused, ObjectNotFound (no such CRD)."""
        args = s.load_args(
            s.ImportCustomResourceSchema(),
            {
                "project_id": project_id,
                "namespace": namespace,
                "manifest": manifest,
                "yaml": yaml,
                "actor": actor or self.context.actor,
                "allow_cluster_scoped": allow_cluster_scoped,
            },
        )
        body = cr.parse_manifest(args["manifest"], args["yaml"])
        kind = cr.resolve(self.kube.list_crds(), *cr.check_custom_resource(body))
        target = self._cr_namespace(args, body, kind)
        created = self.kube.create_custom_object(
            kind.group, kind.version, kind.plural, target, body
        )
        summary = cr.cr_summary(created)
        self._cr_event("custom_resource.created", project_id, summary, args["actor"])
        logger.info(
            "custom resource created kind=%s name=%s namespace=%s project=%s",
            kind.kind,
            summary["name"],
            target,
            project_id,
        )
        return summary

    def _cr_namespace(
        self, args: dict[str, Any], body: dict[str, Any], kind: cr.ResourceType
    ) -> str | None:
        if not kind.namespaced:
            if not args["allow_cluster_scoped"]:
                raise ClusterScopedRefused(
                    f"{kind.kind} is cluster-scoped; only a cloud admin may create it",
                    {"kind": kind.kind},
                )
            return None
        target = args["namespace"] or body["metadata"].get("namespace")
        if not target:
            raise cr.invalid("namespace", "is required for a namespaced custom resource")
        body["metadata"]["namespace"] = target
        self._project_namespace(args["project_id"], target)
        return str(target)

    @rpc(expected_exceptions=ScsError)
    def list_custom_resources(
        self, project_id: str, namespace: str, crd: str
    ) -> list[dict[str, Any]]:
        args = s.load_args(
            s.CustomResourceRefSchema(),
            {"project_id": project_id, "namespace": namespace, "crd": crd},
        )
        self._project_namespace(project_id, args["namespace"])
        kind = cr.by_name(self.kube.list_crds(), args["crd"])
        items = self.kube.list_custom_objects(kind.group, kind.version, kind.plural, namespace)
        return [cr.cr_summary(item) for item in items]

    @rpc(expected_exceptions=ScsError)
    def delete_custom_resource(
        self, project_id: str, namespace: str, crd: str, name: str, actor: str | None = None
    ) -> dict[str, Any]:
        args = s.load_args(
            s.CustomResourceRefSchema(),
            {
                "project_id": project_id,
                "namespace": namespace,
                "crd": crd,
                "name": name,
                "actor": actor or self.context.actor,
            },
        )
        self._project_namespace(project_id, args["namespace"])
        kind = cr.by_name(self.kube.list_crds(), args["crd"])
        self.kube.delete_custom_object(kind.group, kind.version, kind.plural, namespace, name)
        summary = {
            "apiVersion": f"{kind.group}/{kind.version}",
            "kind": kind.kind,
            "namespace": namespace,
            "name": name,
            "uid": None,
        }
        self._cr_event("custom_resource.deleted", project_id, summary, args["actor"])
        logger.info(
            "custom resource deleted kind=%s name=%s namespace=%s project=%s",
            kind.kind,
            name,
            namespace,
            project_id,
        )
        return summary | {"deleted": True}

    def _cr_event(
        self, event_type: str, project_id: str, summary: dict[str, Any], actor: str
    ) -> None:
        envelope = new_event(
            event_type,
            actor=actor,
            project=project_id,
            resource={
                "kind": summary["kind"],
                "namespace": summary["namespace"],
                "name": summary["name"],
                "uid": summary["uid"],
            },
            data={"apiVersion": summary["apiVersion"]},
        )
        with self.db.transaction() as session:
            record_event(session, OutboxEvent, envelope)
