"""nameko entrypoints of the quota service; the rules live in ledger.py.

Callers: the gateway (limits and usage for people), and the services that create things in the
cluster (workload, storage, network), which reserve before a create or scale, then commit once
the cluster accepted the change or release when it did not. Events go out through the outbox.
"""

from __future__ import annotations

import logging
from typing import Any

import eventlet
from nameko.events import event_handler
from nameko.timer import timer
from sqlalchemy.exc import IntegrityError

from services.quota import ledger, mirror
from services.quota.cluster import KubernetesQuota
from services.quota.exceptions import ClusterUnavailable
from services.quota.models import OutboxEvent
from services.quota.schemas import (
    KeySchema,
    LimitsSchema,
    ProjectSchema,
    ReservationSchema,
    ReserveSchema,
    SetLimitsSchema,
    UsageSchema,
    load_payload,
)
from shared.config import Settings
from shared.context import RequestContext
from shared.db import DatabaseProvider
from shared.errors import ScsError
from shared.events import EVENT_SOURCE, record_event
from shared.health import HealthRpc
from shared.outbox import OutboxRelay
from shared.rpc import rpc

logger = logging.getLogger(__name__)

EXPIRY_INTERVAL_SECONDS = 15
# Refusals (quota exceeded, conflicts, bad input) are logged as warnings, not as crashes.


class QuotaService(HealthRpc):
    """Limits, usage and reservations of projects; `health` comes from HealthRpc."""

    name = "quota"

    db = DatabaseProvider("quota")
    context = RequestContext()
    relay = OutboxRelay("quota", OutboxEvent)
    kube = KubernetesQuota()

    @rpc(expected_exceptions=ScsError)
    def set_limits(
        self, project_id: str, limits: dict[str, int | None], actor: str | None = None
    ) -> dict[str, Any]:
        """Replace the limits of the given resources; a null limit removes it.

        set_limits("p1", {"cpu": 4000, "memory": 8589934592})
        -> {"project_id": "p1", "limits": {"cpu": 4000, "memory": 8589934592},
            "over_limit": []}
        Raises ValidationFailed (UnknownResource for a bad resource name).
        """
        payload = load_payload(
            SetLimitsSchema(),
            {"project_id": project_id, "limits": limits, "actor": self._actor(actor)},
        )
        with self.db.transaction() as session:
            answer = ledger.set_limits(session, **payload)
        return LimitsSchema().dump(answer)

    @rpc(expected_exceptions=ScsError)
    def get_limits(self, project_id: str) -> dict[str, Any]:
        """get_limits("p1") -> {"project_id": "p1", "limits": {"cpu": 4000}}"""
        payload = load_payload(ProjectSchema(), {"project_id": project_id})
        with self.db.transaction() as session:
            answer = ledger.get_limits(session, **payload)
        return LimitsSchema().dump(answer)

    @rpc(expected_exceptions=ScsError)
    def usage(self, project_id: str) -> dict[str, Any]:
        """usage("p1") -> {"project_id": "p1", "resources": {"cpu": {"limit": 4000,
        "requested": 1000, "overhead": 250, "used": 1250, "reserved": 250}}}
        """
        payload = load_payload(ProjectSchema(), {"project_id": project_id})
        with self.db.transaction() as session:
            answer = ledger.usage(session, **payload)
        return UsageSchema().dump(answer)

    @rpc(expected_exceptions=ScsError)
    def reserve(
        self,
        project_id: str,
        key: str,
        items: dict[str, dict[str, int]],
        actor: str | None = None,
        ttl_seconds: int | None = None,
    ) -> dict[str, Any]:
        """Reserve items under an idempotency key until commit, release or expiry.

        reserve("p1", "wl-42-create", {"cpu": {"requested": 500, "overhead": 250}})
        -> {"key": "wl-42-create", "project_id": "p1", "status": "reserved",
            "items": {"cpu": {"requested": 500, "overhead": 250}},
            "expires_at": "2026-12-04T19:05:00+00:00", "created_at": "..."}
        Raises QuotaExceeded, ReservationConflict, ValidationFailed.
        """
        payload = load_payload(
            ReserveSchema(),
            {
                "project_id": project_id,
                "key": key,
                "items": items,
                "actor": self._actor(actor),
                "ttl_seconds": ttl_seconds,
            },
        )
        if payload["ttl_seconds"] is None:
            payload["ttl_seconds"] = Settings.from_env().reservation_ttl_seconds

        try:
            answer = self._reserve(payload)
        except IntegrityError:
            # The same key was inserted by a concurrent call for another project; the retry
            # sees that row and answers with it or with ReservationConflict.
            logger.info("reservation %s raced with another insert; retrying", key)
            answer = self._reserve(payload)
        return ReservationSchema().dump(answer)

    @rpc(expected_exceptions=ScsError)
    def commit(self, key: str, actor: str | None = None) -> dict[str, Any]:
        """commit("wl-42-create") -> the reservation with status "committed".

        Raises ReservationNotActive (code reservation_not_active) when it was released or has
        expired, ReservationNotFound.
        """
        payload = load_payload(KeySchema(), {"key": key, "actor": self._actor(actor)})
        with self.db.transaction() as session:
            answer = ledger.commit(session, **payload)
        return ReservationSchema().dump(answer)

    @rpc(expected_exceptions=ScsError)
    def release(self, key: str, actor: str | None = None) -> dict[str, Any]:
        """release("wl-42-create") -> the reservation with status "released" (idempotent).

        Raises ReservationNotFound.
        """
        payload = load_payload(KeySchema(), {"key": key, "actor": self._actor(actor)})
        with self.db.transaction() as session:
            answer = ledger.release(session, **payload)
        return ReservationSchema().dump(answer)

    @rpc(expected_exceptions=ScsError)
    def get_reservation(self, key: str) -> dict[str, Any]:
        """get_reservation("wl-42-create") -> the reservation; raises ReservationNotFound."""
        payload = load_payload(KeySchema(), {"key": key})
        with self.db.transaction() as session:
            answer = ledger.get_reservation(session, payload["key"])
        return ReservationSchema().dump(answer)

    @rpc(expected_exceptions=ScsError)
    def expire_stale(self) -> int:
        """expire_stale() -> how many reservations were marked expired."""
        with self.db.transaction() as session:
            return ledger.expire_stale(session)

    @timer(interval=EXPIRY_INTERVAL_SECONDS)
    def expire_stale_periodically(self) -> None:
        with self.db.transaction() as session:
            ledger.expire_stale(session)

    # -- ResourceQuota mirror (namespace setup step "quota") ---------------------------------

    @event_handler(EVENT_SOURCE, "namespace.created")
    def handle_namespace_created(self, event: dict[str, Any]) -> None:
        """Mirror the project's limits into the new namespace, then answer setup_done."""
        project_id, name = event.get("project"), (event.get("data") or {}).get("name")
        if not isinstance(project_id, str) or not isinstance(name, str):
            logger.warning("namespace.created %s without project or name", event.get("id"))
            return
        if not self._mirror(project_id, [name]):
            return
        with self.db.transaction() as session:
            record_event(session, OutboxEvent, mirror.setup_done_event(project_id, name))
        logger.info("namespace quota set up namespace=%s project=%s", name, project_id)

    @event_handler(EVENT_SOURCE, "quota.limits_set")
    def handle_limits_set(self, event: dict[str, Any]) -> None:
        """Re-mirror the project's limits into each of its namespaces."""
        project_id = event.get("project")
        if not isinstance(project_id, str):
            return
        names = self._with_retry(lambda: self.kube.project_namespaces(project_id))
        if names:
            self._mirror(project_id, names)
            logger.info("limits mirrored project=%s namespaces=%d", project_id, len(names))

    def _mirror(self, project_id: str, namespaces: list[str]) -> bool:
        with self.db.transaction() as session:
            limits = ledger.get_limits(session, project_id)["limits"]
        hard = mirror.hard_of(limits)
        try:
            for name in namespaces:
                self._with_retry(lambda name=name: self.kube.put_resource_quota(name, hard))
        except ScsError as exc:
            logger.warning("mirroring limits of project %s failed: %s", project_id, exc)
            return False
        return True

    def _with_retry(self, call: Any, attempts: int = 4) -> Any:
        # Event delivery is acked even when the handler fails, so retry transient errors here.
        for attempt in range(attempts):
            try:
                return call()
            except ClusterUnavailable:
                if attempt == attempts - 1:
                    raise
                eventlet.sleep(0.5 * 2**attempt)
        return None

    def _reserve(self, payload: dict[str, Any]) -> dict[str, Any]:
        with self.db.transaction() as session:
            return ledger.reserve(session, **payload)

    def _actor(self, actor: str | None) -> str:
        # An explicit actor wins (a service acting for a user); else the caller's context.
        return actor or self.context.actor
