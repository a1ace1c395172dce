"""nameko entrypoints of the storage service; the work is done in the modules they call.

- classes.py: the two StorageClasses, ensured at start;
- provisioner.py: the controller (claims -> volumes -> PVs, expansion, deletion, quota);
- claims.py / volumes.py: what the gateway's volume_claims and storage areas ask for;
- charges.py: quota reservations over RPC; cluster.py: the only module that talks to
  Kubernetes; drivers/: the block-storage driver interface and the sparse-file driver.
"""

from __future__ import annotations

import logging
from typing import Any

from nameko.extensions import DependencyProvider
from nameko.rpc import RpcProxy
from nameko.timer import timer
from sqlalchemy import select

from services.storage import claims, classes, cluster, namespaces, provisioner, volumes
from services.storage.drivers import get_driver
from services.storage.exceptions import InvalidClaim, StorageObjectNotFound
from services.storage.models import REFUSED, OutboxEvent, Volume
from services.storage.provisioner import StorageContext
from services.storage.schemas import ClaimFormSchema, ExpandSchema, load_checked
from shared.context import RequestContext
from shared.db import DatabaseProvider
from shared.errors import ScsError
from shared.health import HealthRpc
from shared.outbox import OutboxRelay
from shared.rpc import rpc
from shared.watch import cluster_watch

logger = logging.getLogger(__name__)

RETRY_REFUSED_SECONDS = 10
CLASS_RESYNC_SECONDS = 300


class Provisioning(DependencyProvider):
    """The block driver and the namespace selector, built once from the config."""

    def setup(self) -> None:
        self.driver = get_driver(self.container.config)
        self.selector = namespaces.selector_from(self.container.config)

    def get_dependency(self, worker_ctx: Any) -> dict[str, Any]:
        return {"driver": self.driver, "selector": self.selector}


class StorageService(HealthRpc):
    name = "storage"

    db = DatabaseProvider("storage")
    context = RequestContext()
    relay = OutboxRelay("storage", OutboxEvent)
    quota = RpcProxy("quota")
    provisioning = Provisioning()

    # -- claims (volume_claims area) ---------------------------------------------------------

    @rpc(expected_exceptions=ScsError)
    def list_claims(self, project_id: str, namespace: str | None = None) -> dict[str, Any]:
        """-> {"items": [{namespace, name, storage_class, requested_bytes, capacity_bytes,
        phase, volume}]}"""
        return {"items": claims.list_claims(project_id, namespace)}

    @rpc(expected_exceptions=ScsError)
    def create_claim(
        self, project_id: str, namespace: str, form: dict[str, Any], actor: str | None = None
    ) -> dict[str, Any]:
        """{"name": "data", "storage_class": "high-performance", "size": "10Gi"} -> summary.

        storage_class defaults to the default class. Raises InvalidClaim,
        NamespaceNotInProject, StorageQuotaExceeded (quota_exceeded), StorageObjectExists.
        """
        loaded = load_checked(ClaimFormSchema(), form)
        return claims.create_claim(self._ctx(), project_id, namespace, loaded, self._actor(actor))

    @rpc(expected_exceptions=ScsError)
    def create_claim_from_yaml(
        self, project_id: str, namespace: str, yaml_text: str, actor: str | None = None
    ) -> dict[str, Any]:
        """Create a claim from one YAML document; no storageClassName means the default."""
        if not isinstance(yaml_text, str):
            raise InvalidClaim("yaml: a string", {"fields": {"yaml": ["a string"]}})
        return claims.create_from_yaml(
            self._ctx(), project_id, namespace, yaml_text, self._actor(actor)
        )

    @rpc(expected_exceptions=ScsError)
    def expand_claim(
        self, project_id: str, namespace: str, name: str, size: Any, actor: str | None = None
    ) -> dict[str, Any]:
        """Grow a bound claim to `size` (bytes or "30Gi"); raises ExpansionRefused,
        StorageQuotaExceeded (past the class quota: nothing changes)."""
        loaded = load_checked(ExpandSchema(), {"size": size})
        return claims.expand_claim(
            self._ctx(), project_id, namespace, name, loaded["size_bytes"], self._actor(actor)
        )

    @rpc(expected_exceptions=ScsError)
    def get_claim_yaml(self, project_id: str, namespace: str, name: str) -> dict[str, Any]:
        namespaces.check_in_project(namespace, project_id)
        import yaml

        pvc = cluster.read_claim(namespace, name)
        return {
            "name": name,
            "yaml": yaml.safe_dump(
                {"apiVersion": "v1", "kind": "PersistentVolumeClaim", **pvc}, sort_keys=False
            ),
        }

    @rpc(expected_exceptions=ScsError)
    def replace_claim_yaml(
        self, project_id: str, namespace: str, name: str, yaml_text: str, actor: str | None = None
    ) -> dict[str, Any]:
        if not isinstance(yaml_text, str):
            raise InvalidClaim("yaml: a string", {"fields": {"yaml": ["a string"]}})
        return claims.replace_yaml(
            self._ctx(), project_id, namespace, name, yaml_text, self._actor(actor)
        )

    @rpc(expected_exceptions=ScsError)
    def delete_claim(
        self, project_id: str, namespace: str, name: str, actor: str | None = None
    ) -> dict[str, Any]:
        return claims.delete_claim(project_id, namespace, name, self._actor(actor))

    @rpc(expected_exceptions=ScsError)
    def apply_manifest(
        self, project_id: str, namespace: str, manifest: dict[str, Any], actor: str | None = None
    ) -> dict[str, Any]:
        """Create (or grow) a PersistentVolumeClaim (cross-service contract).

        -> {"kind", "namespace", "name", "uid"}; a claim without storageClassName gets the
        default class.
        """
        done = claims.apply_manifest(
            self._ctx(), project_id, namespace, manifest, self._actor(actor)
        )
        return {key: done[key] for key in ("kind", "namespace", "name", "uid")}

    @rpc(expected_exceptions=ScsError)
    def delete_object(
        self, project_id: str, namespace: str, kind: str, name: str, actor: str | None = None
    ) -> dict[str, Any]:
        """Delete a PersistentVolumeClaim (cross-service contract); idempotent."""
        if kind != "PersistentVolumeClaim":
            raise InvalidClaim(
                "kind: PersistentVolumeClaim", {"fields": {"kind": ["PersistentVolumeClaim"]}}
            )
        try:
            return claims.delete_claim(project_id, namespace, name, self._actor(actor))
        except StorageObjectNotFound:
            return {"kind": kind, "namespace": namespace, "name": name, "deleted": False}

    # -- volumes and classes (storage area, admins) ------------------------------------------

    @rpc(expected_exceptions=ScsError)
    def list_volumes(self, project_id: str) -> dict[str, Any]:
        return {"items": volumes.list_volumes(project_id)}

    @rpc(expected_exceptions=ScsError)
    def get_volume_yaml(self, project_id: str, name: str) -> dict[str, Any]:
        return volumes.volume_yaml(project_id, name)

    @rpc(expected_exceptions=ScsError)
    def delete_volume(
        self, project_id: str, name: str, actor: str | None = None
    ) -> dict[str, Any]:
        return volumes.delete_volume(project_id, name, self._actor(actor))

    @rpc(expected_exceptions=ScsError)
    def list_classes(self) -> dict[str, Any]:
        return {
            "items": [
                {
                    "name": name,
                    "default": name == classes.DEFAULT_CLASS,
                    "provisioner": classes.PROVISIONER,
                }
                for name in classes.CLASSES
            ]
        }

    @rpc(expected_exceptions=ScsError)
    def get_class_yaml(self, name: str) -> dict[str, Any]:
        return volumes.class_yaml(name)

    # -- the provisioner ---------------------------------------------------------------------

    @cluster_watch(stream_factory=cluster.claim_events)
    def handle_claim_event(self, event_type: str, obj: dict[str, Any]) -> None:
        provisioner.handle_claim(self._ctx(), event_type, obj)

    @cluster_watch(stream_factory=cluster.volume_events)
    def handle_volume_event(self, event_type: str, obj: dict[str, Any]) -> None:
        provisioner.handle_volume(self._ctx(), event_type, obj)

    @timer(interval=RETRY_REFUSED_SECONDS)
    def retry_refused(self) -> None:
        """Claims refused for quota get another try (the limit may have been raised)."""
        with self.db.transaction() as session:
            refused = list(session.scalars(select(Volume).where(Volume.state == REFUSED)))
        for vol in refused:
            try:
                pvc = cluster.read_claim(vol.namespace, vol.claim_name)
            except StorageObjectNotFound:
                provisioner.forget_claim(self._ctx(), {"metadata": {"uid": vol.claim_uid}})
                continue
            provisioner.handle_claim(self._ctx(), "MODIFIED", pvc)

    @timer(interval=CLASS_RESYNC_SECONDS, eager=True)
    def ensure_classes(self) -> None:
        classes.ensure_classes()

    # -- helpers -----------------------------------------------------------------------------

    def _ctx(self) -> StorageContext:
        return StorageContext(
            db=self.db,
            driver=self.provisioning["driver"],
            quota=self.quota,
            selector=self.provisioning["selector"],
        )

    def _actor(self, actor: str | None) -> str:
        return actor or self.context.actor
