"""nameko entrypoints of the workload service; the logic lives in the modules named below.

creation (manifests in), lifecycle (scale, stop/start, redeploy, update, strategy, scheduling,
delete, run-now), history (revisions, rollback), autoscaling (HPA policy), observe (status,
pods, logs, metrics). Callers: the gateway, and other services for HPAs (`apply_manifest`).
"""

from __future__ import annotations

import logging
from typing import Any

from nameko.events import event_handler
from nameko.rpc import RpcProxy
from nameko.timer import timer

from services.workload import (
    autoscaling,
    creation,
    editing,
    forms,
    history,
    lifecycle,
    network_settings,
    observe,
    reconcile,
    tenancy,
    terminal,
)
from services.workload.cluster import ClusterProvider
from services.workload.deps import Deps
from services.workload.exceptions import UnsupportedKind
from services.workload.hpa_watcher import HpaWatcher
from services.workload.installer import AdmissionPolicyInstaller
from services.workload.log_relay import LogRelay, check_queue_name
from services.workload.manifests import HPA, Document, read_documents
from services.workload.models import OutboxEvent
from services.workload.pod_watcher import PodEvents, PodWatcher
from services.workload.schemas import (
    AutoscalingSchema,
    FollowLogOptionsSchema,
    LogOptionsSchema,
    SchedulingSchema,
    StrategySchema,
    UpdateSchema,
    WorkloadFormSchema,
    load_network_settings,
    load_payload,
)
from shared.context import RequestContext
from shared.db import DatabaseProvider
from shared.errors import ScsError, ValidationFailed
from shared.events import EVENT_SOURCE
from shared.health import HealthRpc
from shared.outbox import OutboxRelay
from shared.rpc import rpc

logger = logging.getLogger(__name__)


class WorkloadService(HealthRpc):
    """Workloads of projects in Kata sandboxes; `health` comes from HealthRpc."""

    name = "workload"

    db = DatabaseProvider("workload")
    context = RequestContext()
    relay = OutboxRelay("workload", OutboxEvent)
    cluster = ClusterProvider()
    admission = AdmissionPolicyInstaller()
    hpa_watcher = HpaWatcher()
    pod_watcher = PodWatcher()
    log_relay = LogRelay()
    terminals = terminal.TerminalRelay()
    quota = RpcProxy("quota")
    network = RpcProxy("network")
    storage = RpcProxy("storage")
    config = RpcProxy("config")
    gpu = RpcProxy("gpu")
    audit = RpcProxy("audit")  # health only: a terminal opens only while transcripts are kept

    # -- create --------------------------------------------------------------------------

    @rpc(expected_exceptions=ScsError)
    def create_workload(
        self,
        project_id: str,
        namespace: str,
        manifest: str | list[Any] | dict[str, Any] | None = None,
        form: dict[str, Any] | None = None,
        actor: str | None = None,
    ) -> dict[str, Any]:
        """Create workloads (and their companions) from YAML text, objects, or a form.

        create_workload("p1", "vision-dev", manifest="apiVersion: apps/v1\\nkind: ...")
        -> {"workloads": [{"id", "kind", "name", "replicas", "revision", ...}],
            "objects": [{"owner", "kind", "namespace", "name", "uid"}]}
        Raises InvalidManifest, UnsupportedKind, ApiVersionRemoved, IsolationViolation
        (details.field names the path), NamespaceNotInProject, WorkloadExists, QuotaRefused,
        OwnerUnavailable (503), ClusterRefused, ClusterUnavailable.
        """
        if (manifest is None) == (form is None):
            raise ValidationFailed(
                "give either a manifest or a form", {"fields": {"manifest": ["or form"]}}
            )
        if form is not None:
            manifest = [forms.to_manifest(load_payload(WorkloadFormSchema(), form, "form"))]
        documents = read_documents(manifest)  # type: ignore[arg-type]
        return creation.create(
            self._deps(),
            project_id,
            namespace,
            documents,
            self._actor(actor),
            request_id=self.context.request_id,
        )

    @rpc(expected_exceptions=ScsError)
    def apply_manifest(
        self, project_id: str, namespace: str, manifest: dict[str, Any], actor: str | None = None
    ) -> dict[str, Any]:
        """The companion contract for HPAs: {"kind","namespace","name","uid"}."""
        documents = read_documents(manifest)
        if documents[0].role != HPA:
            raise UnsupportedKind(
                "the workload service applies HorizontalPodAutoscalers through this call",
                {"field": "kind"},
            )
        creation.create(self._deps(), project_id, namespace, documents, self._actor(actor))
        return _ref(documents[0], namespace)

    @rpc(expected_exceptions=ScsError)
    def delete_object(
        self, project_id: str, namespace: str, kind: str, name: str, actor: str | None = None
    ) -> dict[str, Any]:
        if kind != "HorizontalPodAutoscaler":
            raise UnsupportedKind(f"{kind} is not the workload service's", {"field": "kind"})
        observe.require_project_namespace(self.cluster, project_id, namespace)
        self.cluster.delete(kind, namespace, name, propagation="Background")
        return {"kind": kind, "namespace": namespace, "name": name, "deleted": True}

    # -- read ----------------------------------------------------------------------------

    @rpc(expected_exceptions=ScsError)
    def list_workloads(self, project_id: str, namespace: str | None = None) -> list[dict]:
        return observe.list_workloads(self._deps(), project_id, namespace)

    @rpc(expected_exceptions=ScsError)
    def get_workload(self, project_id: str, namespace: str, name: str) -> dict[str, Any]:
        """The record plus `rollout`: {"state": progressing|complete|failed|suspended, ...}."""
        return observe.describe(self._deps(), project_id, namespace, name)

    @rpc(expected_exceptions=ScsError)
    def list_revisions(self, project_id: str, namespace: str, name: str) -> list[dict]:
        return history.revisions(self._deps(), project_id, namespace, name)

    @rpc(expected_exceptions=ScsError)
    def list_pods(self, project_id: str, namespace: str, name: str) -> list[dict]:
        """[{"name", "phase", "node", "ip", "restarts", "ready", "started_at"}]"""
        return observe.pods(self._deps(), project_id, namespace, name)

    @rpc(expected_exceptions=ScsError)
    def get_pod_yaml(self, project_id: str, namespace: str, pod: str) -> dict[str, Any]:
        return observe.pod_yaml(self._deps(), project_id, namespace, pod)

    @rpc(expected_exceptions=ScsError)
    def get_logs(
        self, project_id: str, namespace: str, pod: str, options: dict | None = None
    ) -> dict[str, Any]:
        """options: container, tail_lines, since_seconds, previous, limit_bytes."""
        loaded = load_payload(LogOptionsSchema(), options or {}, "query")
        return observe.logs(self._deps(), project_id, namespace, pod, loaded)

    @rpc(expected_exceptions=ScsError)
    def follow_logs(
        self, project_id: str, namespace: str, pod: str, options: dict | None, queue: str
    ) -> dict[str, Any]:
        """Start relaying a followed log to the caller's stream queue (see log_relay).

        follow_logs("p1", "vision-dev", "web-0", {"container": "c", "max_seconds": 60},
                    "scs.logs.<32 hex>") -> {"queue", "namespace", "pod", "max_seconds"}
        Raises PodNotFound, NamespaceNotInProject, LogsUnavailable, ValidationFailed.
        """
        check_queue_name(queue)
        loaded = load_payload(FollowLogOptionsSchema(), options or {}, "query")
        limit = self.log_relay.max_seconds
        max_seconds = min(loaded.pop("max_seconds") or limit, limit)
        follow = observe.follow_logs(self._deps(), project_id, namespace, pod, loaded, max_seconds)
        cluster = self.cluster
        if self.log_relay.start_relay(
            follow, queue, lambda: observe.pod_ended(cluster, namespace, pod), max_seconds
        ):
            logger.info("following log of pod %s/%s into %s", namespace, pod, queue)
        return {"queue": queue, "namespace": namespace, "pod": pod, "max_seconds": max_seconds}

    @rpc(expected_exceptions=ScsError)
    def open_terminal(
        self,
        project_id: str,
        namespace: str,
        pod: str,
        container: str | None,
        command: str,
        queue: str,
        actor: str | None = None,
    ) -> dict[str, Any]:
        """Open an exec session relayed through the caller's queues (see terminal.py).

        open_terminal("p1", "vision-dev", "web-0", None, "sh", "scs.term.<32 hex>")
        -> {"session_id", "queue", "namespace", "pod", "command", "max_seconds"}
        Raises ValidationFailed (command, queue), PodNotFound, NamespaceNotInProject,
        OwnerUnavailable (the audit service is not running), ClusterUnavailable (the node
        opens no exec session).
        """
        argv, queue = terminal.parse_command(command), terminal.check_queue_name(queue)
        observe.project_pod(self.cluster, project_id, namespace, pod)
        terminal.require_audit(self.audit)
        session = self.cluster.open_exec(namespace, pod, container, argv, tty=True)
        session_id = self.terminals.start_session(session, queue, project_id, pod)
        logger.info(
            "terminal %s on %s/%s (%s) for %s",
            session_id,
            namespace,
            pod,
            argv[0],
            self._actor(actor),
        )
        return {
            "session_id": session_id,
            "queue": queue,
            "namespace": namespace,
            "pod": pod,
            "command": argv,
            "max_seconds": self.terminals.max_seconds,
        }

    @rpc(expected_exceptions=ScsError)
    def get_metrics(self, project_id: str, namespace: str, name: str) -> dict[str, Any]:
        return observe.metrics(self._deps(), project_id, namespace, name)

    # -- change --------------------------------------------------------------------------

    @rpc(expected_exceptions=ScsError)
    def scale_workload(
        self, project_id: str, namespace: str, name: str, replicas: int, actor: str | None = None
    ) -> dict[str, Any]:
        """Raises QuotaRefused when the project cannot pay for the extra pods."""
        if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
            raise ValidationFailed(
                "replicas must be a non-negative integer", {"field": "replicas"}
            )
        return lifecycle.scale(
            self._deps(), project_id, namespace, name, replicas, self._actor(actor)
        )

    @rpc(expected_exceptions=ScsError)
    def stop_workload(
        self, project_id: str, namespace: str, name: str, actor: str | None = None
    ) -> dict[str, Any]:
        return lifecycle.stop(self._deps(), project_id, namespace, name, self._actor(actor))

    @rpc(expected_exceptions=ScsError)
    def start_workload(
        self, project_id: str, namespace: str, name: str, actor: str | None = None
    ) -> dict[str, Any]:
        return lifecycle.start(self._deps(), project_id, namespace, name, self._actor(actor))

    @rpc(expected_exceptions=ScsError)
    def redeploy_workload(
        self, project_id: str, namespace: str, name: str, actor: str | None = None
    ) -> dict[str, Any]:
        return lifecycle.redeploy(self._deps(), project_id, namespace, name, self._actor(actor))

    @rpc(expected_exceptions=ScsError)
    def update_workload(
        self,
        project_id: str,
        namespace: str,
        name: str,
        change: dict[str, Any],
        actor: str | None = None,
    ) -> dict[str, Any]:
        """change: {"containers": [{"name", "image", "env", "resources"}], "labels": {}}."""
        loaded = load_payload(UpdateSchema(), change)
        return lifecycle.update(
            self._deps(), project_id, namespace, name, loaded, self._actor(actor)
        )

    @rpc(expected_exceptions=ScsError)
    def edit_workload_yaml(
        self,
        project_id: str,
        namespace: str,
        name: str,
        manifest: str | dict[str, Any],
        actor: str | None = None,
    ) -> dict[str, Any]:
        """Replace the workload with one YAML/JSON document of the same kind and name."""
        return editing.edit_yaml(
            self._deps(), project_id, namespace, name, manifest, self._actor(actor)
        )

    @rpc(expected_exceptions=ScsError)
    def set_update_strategy(
        self,
        project_id: str,
        namespace: str,
        name: str,
        strategy: dict[str, Any],
        actor: str | None = None,
    ) -> dict[str, Any]:
        loaded = load_payload(StrategySchema(), strategy)
        return lifecycle.set_strategy(
            self._deps(), project_id, namespace, name, loaded, self._actor(actor)
        )

    @rpc(expected_exceptions=ScsError)
    def set_scheduling(
        self,
        project_id: str,
        namespace: str,
        name: str,
        scheduling: dict[str, Any],
        actor: str | None = None,
    ) -> dict[str, Any]:
        loaded = load_payload(SchedulingSchema(), scheduling)
        return lifecycle.set_scheduling(
            self._deps(), project_id, namespace, name, loaded, self._actor(actor)
        )

    @rpc(expected_exceptions=ScsError)
    def set_autoscaling(
        self,
        project_id: str,
        namespace: str,
        name: str,
        policy: dict[str, Any],
        actor: str | None = None,
    ) -> dict[str, Any]:
        """policy: {"enabled", "min_replicas", "max_replicas", "cpu_utilization",
        "memory_utilization"}; the ledger pays for max_replicas pods."""
        loaded = load_payload(AutoscalingSchema(), policy)
        return autoscaling.set_autoscaling(
            self._deps(), project_id, namespace, name, loaded, self._actor(actor)
        )

    @rpc(expected_exceptions=ScsError)
    def get_network_settings(self, project_id: str, namespace: str, name: str) -> dict[str, Any]:
        """-> {"namespace", "workload", "kind", "service": {...} | None, "ingress": {...} | None,
        "unmanaged": [kinds]} (see set_network_settings). Raises WorkloadNotFound,
        OwnerUnavailable (the network service is not running)."""
        return network_settings.settings_of(self._deps(), project_id, namespace, name)

    @rpc(expected_exceptions=ScsError)
    def set_network_settings(
        self,
        project_id: str,
        namespace: str,
        name: str,
        settings: dict[str, Any],
        actor: str | None = None,
    ) -> dict[str, Any]:
        """The workload's Service and Ingress, through the network service (network_settings).

        settings: {"service": {"type": "LoadBalancer", "ports": [{"name": "http", "port": 80,
        "target_port": 8080, "protocol": "TCP"}]}, "ingress": {"host": "shop.example.com",
        "path": "/", "path_type": "Prefix", "port": 80}}; `service` null or type "None"
        removes the Service, `ingress` null or absent the Ingress.
        -> the settings as get_network_settings answers them (cluster_ip, node_port,
        load_balancer {state, address, reason} as the network service reports them).
        Raises ValidationFailed (details.field: the path), TargetPortNotDeclared (422),
        NetworkNameTaken (409: a Service or Ingress of that name is not the workload's),
        WorkloadNotFound, NamespaceNotInProject, OwnerUnavailable, and the network service's
        refusals (e.g. ingress_host_taken, 409) naming the settings' field.
        """
        loaded = load_network_settings(settings)
        return network_settings.set_settings(
            self._deps(), project_id, namespace, name, loaded, self._actor(actor)
        )

    @rpc(expected_exceptions=ScsError)
    def rollback_workload(
        self,
        project_id: str,
        namespace: str,
        name: str,
        revision: int | None = None,
        actor: str | None = None,
    ) -> dict[str, Any]:
        return history.rollback(
            self._deps(), project_id, namespace, name, revision, self._actor(actor)
        )

    @rpc(expected_exceptions=ScsError)
    def run_cronjob(
        self, project_id: str, namespace: str, name: str, actor: str | None = None
    ) -> dict[str, Any]:
        return lifecycle.run_now(self._deps(), project_id, namespace, name, self._actor(actor))

    @rpc(expected_exceptions=ScsError)
    def delete_workload(
        self, project_id: str, namespace: str, name: str, actor: str | None = None
    ) -> dict[str, Any]:
        """Cascading delete (foreground); releases the workload's quota."""
        return lifecycle.delete(self._deps(), project_id, namespace, name, self._actor(actor))

    @rpc(expected_exceptions=ScsError)
    def delete_pod(
        self, project_id: str, namespace: str, pod: str, actor: str | None = None
    ) -> dict[str, Any]:
        return observe.delete_pod(self._deps(), project_id, namespace, pod, self._actor(actor))

    # -- namespace setup (step "workload") ----------------------------------------------

    @event_handler(EVENT_SOURCE, "namespace.created")
    def handle_namespace_created(self, event: dict[str, Any]) -> None:
        """Label the namespace for the admission policy, then answer namespace.setup_done."""
        project_id, name = event.get("project"), (event.get("data") or {}).get("name")
        if not isinstance(project_id, str) or not isinstance(name, str):
            logger.warning("namespace.created %s without project or name", event.get("id"))
            return
        if tenancy.set_up_namespace(self.cluster, self.db, project_id, name):
            logger.info("namespace %s of project %s set up for workloads", name, project_id)

    @event_handler(EVENT_SOURCE, "namespace.deleted")
    def handle_namespace_deleted(self, event: dict[str, Any]) -> None:
        """Release the quota of the namespace's workloads and drop their records."""
        project_id, name = event.get("project"), (event.get("data") or {}).get("name")
        if isinstance(project_id, str) and isinstance(name, str):
            lifecycle.forget_namespace(self._deps(), project_id, name)

    # -- reconciling with the cluster ------------------------------------------------------

    @rpc(expected_exceptions=ScsError)
    def reconcile_cluster(self) -> dict[str, int]:
        """One reconcile pass (reconcile.py): `{workloads_gone, surges_settled, pods_stopped}`.

        Raises ClusterUnavailable (503) when the cluster does not answer; nothing changes then.
        """
        return reconcile.reconcile(self._deps(), PodEvents(self.db, self.cluster))

    @timer(interval=reconcile.INTERVAL_SECONDS, eager=True)
    def reconcile_on_timer(self) -> None:
        try:
            reconcile.reconcile(self._deps(), PodEvents(self.db, self.cluster))
        except ScsError as exc:
            logger.warning("reconcile pass skipped: %s", exc)

    # -- helpers -------------------------------------------------------------------------

    def _deps(self) -> Deps:
        owners = {
            "network": self.network,
            "storage": self.storage,
            "config": self.config,
            "gpu": self.gpu,
        }
        return Deps(db=self.db, cluster=self.cluster, quota=self.quota, owners=owners)

    def _actor(self, actor: str | None) -> str:
        return actor or self.context.actor


def _ref(doc: Document, namespace: str) -> dict[str, Any]:
    return {"kind": doc.kind, "namespace": namespace, "name": doc.name, "uid": None}
