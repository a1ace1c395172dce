"""nameko entrypoints of the network service; the work is done in the modules they call.

- objects.py: Services and Ingresses of a project (the gateway's network area, and
  `apply_manifest` / `delete_object` for the workload service);
- loadbalancer.py: the controller for Services of type LoadBalancer (pool, status, members);
- isolation.py: the NetworkPolicy of every project namespace;
- cluster.py: the only module that talks to Kubernetes.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from nameko.extensions import DependencyProvider
from nameko.timer import timer

from services.network import cluster, isolation, loadbalancer, manifests, namespaces, objects
from services.network.drivers import configured_pool, get_driver
from services.network.loadbalancer import LbContext
from services.network.models import OutboxEvent
from services.network.pool import parse_pool
from services.network.schemas import check_target, load_form
from shared.context import RequestContext
from shared.db import DatabaseProvider
from shared.errors import ScsError
from shared.events import EVENT_SOURCE
from shared.health import HealthRpc
from shared.outbox import OutboxRelay
from shared.rpc import rpc
from shared.subscriptions import event_handler
from shared.watch import cluster_watch

logger = logging.getLogger(__name__)

RETRY_PENDING_SECONDS = 3
ISOLATION_RESYNC_SECONDS = 60


class LoadBalancing(DependencyProvider):
    """The controller's context: the SDN driver, the pool and the namespace selector."""

    def setup(self) -> None:
        config = self.container.config
        self.driver = get_driver(str(config.get("SDN_DRIVER") or "embedded"))
        self.pool = parse_pool(configured_pool(config))
        self.selector = namespaces.selector_from(config)

    def get_dependency(self, worker_ctx: Any) -> dict[str, Any]:
        return {"driver": self.driver, "pool": self.pool, "selector": self.selector}


class NetworkService(HealthRpc):
    name = "network"

    db = DatabaseProvider("network")
    context = RequestContext()
    relay = OutboxRelay("network", OutboxEvent)
    lb = LoadBalancing()

    # -- the network area of the API --------------------------------------------------------

    @rpc(expected_exceptions=ScsError)
    def list_objects(self, project_id: str, namespace: str | None = None) -> dict[str, Any]:
        """list_objects("p1", "vision-dev") -> {"items": [{kind, namespace, name, type, ...}]}"""
        return {"items": objects.list_objects(self._ctx(), project_id, namespace)}

    @rpc(expected_exceptions=ScsError)
    def get_object(self, project_id: str, namespace: str, kind: str, name: str) -> dict[str, Any]:
        """The summary plus the live manifest; raises NetworkObjectNotFound."""
        check_target(kind, name)
        return objects.get_object(self._ctx(), project_id, namespace, kind, name)

    @rpc(expected_exceptions=ScsError)
    def create_object(
        self, project_id: str, namespace: str, form: dict[str, Any], actor: str | None = None
    ) -> dict[str, Any]:
        """Create from a form: {"kind": "Service", "name": "web", "type": "LoadBalancer",
        "ports": [{"port": 80, "target_port": 8080}], "selector": {"app": "web"}} or
        {"kind": "Ingress", "name": "web", "rules": [{"host": "a.example", "service": "web",
        "port": 80}]} -> the summary (a LoadBalancer one with "load_balancer": {state,
        address, reason}). Raises InvalidManifest, NamespaceNotInProject, NetworkObjectExists.
        """
        manifest = self._from_form(project_id, namespace, form)
        return objects.create(self._ctx(), project_id, namespace, manifest, self._actor(actor))

    @rpc(expected_exceptions=ScsError)
    def create_from_yaml(
        self, project_id: str, namespace: str, yaml_text: str, actor: str | None = None
    ) -> dict[str, Any]:
        """Create a Service or Ingress from one YAML document (e.g. a file of the user's)."""
        if not isinstance(yaml_text, str):
            raise manifests._invalid("yaml", "a string")
        manifest = manifests.checked_manifest(
            manifests.parse_yaml(yaml_text), namespace, project_id
        )
        return objects.create(self._ctx(), project_id, namespace, manifest, self._actor(actor))

    @rpc(expected_exceptions=ScsError)
    def update_object(
        self,
        project_id: str,
        namespace: str,
        name: str,
        form: dict[str, Any],
        actor: str | None = None,
    ) -> dict[str, Any]:
        """Replace an object's spec from a form (same shape as create; the name must match)."""
        manifest = self._from_form(project_id, namespace, {**form, "name": name})
        return objects.replace(self._ctx(), project_id, namespace, manifest, self._actor(actor))

    @rpc(expected_exceptions=ScsError)
    def replace_yaml(
        self,
        project_id: str,
        namespace: str,
        kind: str,
        name: str,
        yaml_text: str,
        actor: str | None = None,
    ) -> dict[str, Any]:
        """Replace an object with an edited YAML document of the same kind and name."""
        check_target(kind, name)
        manifest = manifests.checked_manifest(
            manifests.parse_yaml(yaml_text), namespace, project_id
        )
        if manifest["kind"] != kind or manifest["metadata"]["name"] != name:
            raise manifests._invalid("metadata.name", f"the YAML must describe {kind} {name}")
        return objects.replace(self._ctx(), project_id, namespace, manifest, self._actor(actor))

    @rpc(expected_exceptions=ScsError)
    def apply_manifest(
        self, project_id: str, namespace: str, manifest: dict[str, Any], actor: str | None = None
    ) -> dict[str, Any]:
        """Create or replace a Service or Ingress (cross-service contract).

        -> {"kind", "namespace", "name", "uid"}; raises InvalidManifest for other kinds.
        """
        checked = manifests.checked_manifest(manifest, namespace, project_id)
        done = objects.apply(self._ctx(), project_id, namespace, checked, self._actor(actor))
        return {key: done[key] for key in ("kind", "namespace", "name", "uid")}

    @rpc(expected_exceptions=ScsError)
    def delete_object(
        self, project_id: str, namespace: str, kind: str, name: str, actor: str | None = None
    ) -> dict[str, Any]:
        """-> {"kind", "namespace", "name", "deleted": bool}; idempotent."""
        check_target(kind, name)
        return objects.delete(self._ctx(), project_id, namespace, kind, name, self._actor(actor))

    # -- load balancers ----------------------------------------------------------------------

    @rpc(expected_exceptions=ScsError)
    def lb_status(self, namespace: str, name: str) -> dict[str, Any]:
        """-> {"state": "allocated"|"pending"|"none", "address", "reason", "members"}"""
        return loadbalancer.status_of(self._ctx(), f"{namespace}/{name}")

    @rpc(expected_exceptions=ScsError)
    def pool_state(self) -> dict[str, Any]:
        """-> {"size", "free", "allocated": {address: "namespace/name"}}"""
        ctx = self._ctx()
        with self.db.transaction() as session:
            return ctx.driver.pool_state(session)

    @cluster_watch(stream_factory=cluster.service_events)
    def handle_service_event(self, event_type: str, obj: dict[str, Any]) -> None:
        ctx = self._ctx()
        if event_type == "SYNCED":
            listed_at = datetime.fromisoformat(obj["listed_at"])
            loadbalancer.release_missing(ctx, set(obj["keys"]), listed_at)
            return
        key = loadbalancer.service_key(obj)
        if event_type == "DELETED":
            loadbalancer.release(ctx, key, obj)
            return
        served, project = namespaces.served_project(obj["metadata"]["namespace"], ctx.selector)
        if served:
            loadbalancer.reconcile_service(ctx, obj, project)

    @cluster_watch(stream_factory=cluster.endpoint_slice_events)
    def handle_endpoint_slice_event(self, event_type: str, obj: dict[str, Any]) -> None:
        if event_type == "SYNCED":
            return
        service = (obj["metadata"].get("labels") or {}).get("kubernetes.io/service-name")
        if service:
            loadbalancer.sync_members(self._ctx(), obj["metadata"]["namespace"], service)

    @timer(interval=RETRY_PENDING_SECONDS)
    def retry_pending(self) -> None:
        loadbalancer.retry_pending(self._ctx())

    # -- tenant isolation --------------------------------------------------------------------

    @rpc(expected_exceptions=ScsError)
    def ensure_isolation(self, namespace: str, project_id: str | None = None) -> dict[str, Any]:
        """Install the project's NetworkPolicy in the namespace (idempotent).

        -> {"namespace", "project_id", "policy", "created"}; raises NamespaceNotInProject.
        """
        return isolation.ensure_isolation(self.db, namespace, project_id)

    @event_handler(EVENT_SOURCE, "namespace.created")
    def handle_namespace_created(self, event: dict[str, Any]) -> None:
        name = (event.get("data") or {}).get("name") or event["resource"]["name"]
        isolation.ensure_isolation(self.db, name, event.get("project"), announce=True)

    @timer(interval=ISOLATION_RESYNC_SECONDS, eager=True)
    def resync(self) -> None:
        """At start and then every minute: the pool as configured, every namespace isolated."""
        ctx = self._ctx()
        with self.db.transaction() as session:
            ctx.driver.sync_pool(session, ctx.pool)
        isolation.ensure_all(self.db, ctx.selector)

    # -- helpers -----------------------------------------------------------------------------

    def _ctx(self) -> LbContext:
        return LbContext(
            db=self.db,
            driver=self.lb["driver"],
            selector=self.lb["selector"],
            pool=self.lb["pool"],
        )

    def _from_form(self, project_id: str, namespace: str, form: Any) -> dict[str, Any]:
        loaded = load_form(form)
        if loaded["kind"] == "Ingress":
            return manifests.ingress_from_form(namespace, project_id, loaded)
        return manifests.service_from_form(namespace, project_id, loaded)

    def _actor(self, actor: str | None) -> str:
        return actor or self.context.actor
