"""The load-balancer controller: pool addresses for Services of type LoadBalancer.

For each such Service in a served namespace (see namespaces.py) it allocates an address
through the SDN driver and writes it to status.loadBalancer.ingress; when the pool is empty the
Service stays pending, a Warning Event is put on it and `lb.allocation_refused` is recorded
(once per Service), and the periodic retry gives it an address when one is freed. When the
Service goes away (or stops being a LoadBalancer) the address returns to the pool.

Members follow the Service's EndpointSlices: every ready endpoint is a member; changes are
recorded as `lb.member_added` / `lb.member_removed` with the address and the member.

Every handler is idempotent: it compares the wanted state with the stored one and acts only
on the difference, so a redelivered or repeated watch event changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.network import cluster
from services.network.drivers import SdnDriver
from services.network.exceptions import NetworkObjectNotFound
from services.network.models import ALLOCATED, PENDING, LbService, OutboxEvent
from shared.db import Database
from shared.events import SYSTEM_ACTOR, new_event, record_event

logger = logging.getLogger(__name__)

LB_CLASS = "scs.io/lb"
POOL_EXHAUSTED = "pool_exhausted"


@dataclass
class LbContext:
    db: Database
    driver: SdnDriver
    selector: str
    pool: list[str]


def service_key(obj: dict[str, Any]) -> str:
    return f"{obj['metadata']['namespace']}/{obj['metadata']['name']}"


def wants_address(svc: dict[str, Any]) -> bool:
    spec = svc.get("spec") or {}
    return (
        spec.get("type") == "LoadBalancer"
        and spec.get("loadBalancerClass") in (None, LB_CLASS)
        and not svc["metadata"].get("deletionTimestamp")
    )


def _resource(svc: dict[str, Any]) -> dict[str, Any]:
    meta = svc["metadata"]
    return {
        "kind": "Service",
        "namespace": meta["namespace"],
        "name": meta["name"],
        "uid": meta.get("uid"),
    }


def _record(
    session: Session,
    event_type: str,
    svc: dict[str, Any],
    project: str | None,
    data: dict[str, Any],
) -> None:
    event = new_event(
        event_type, actor=SYSTEM_ACTOR, project=project, resource=_resource(svc), data=data
    )
    record_event(session, OutboxEvent, event)


# -- addresses -------------------------------------------------------------------------------


def reconcile_service(ctx: LbContext, svc: dict[str, Any], project: str | None) -> dict[str, Any]:
    """Bring one Service to its wanted state; answers {"state", "address", "reason"}."""
    key = service_key(svc)
    if not wants_address(svc):
        release(ctx, key, svc)
        return {"state": "none", "address": None, "reason": None}

    try:
        outcome = _allocate(ctx, svc, project)
    except IntegrityError:
        # A concurrent handler allocated for this Service first; the retry finds its address.
        outcome = _allocate(ctx, svc, project)

    address, changed = outcome["address"], outcome.pop("changed")
    if address is not None:
        _publish_address(svc, address)
        if changed:
            logger.info("Service %s got load-balancer address %s", key, address)
            sync_members(ctx, svc["metadata"]["namespace"], svc["metadata"]["name"])
    elif changed:
        logger.warning("Service %s is pending: the load-balancer pool is empty", key)
        _kube_event(
            svc,
            "AllocationFailed",
            f"no free address in the load-balancer pool ({len(ctx.pool)} addresses)",
            "Warning",
        )
    return outcome


def _allocate(ctx: LbContext, svc: dict[str, Any], project: str | None) -> dict[str, Any]:
    key, uid = service_key(svc), svc["metadata"].get("uid") or ""
    with ctx.db.transaction() as session:
        if _pool_unset(session, ctx):
            ctx.driver.sync_pool(session, ctx.pool)
        row = session.get(LbService, key)
        if row is None:
            row = LbService(service_key=key, uid=uid, project_id=project, state="new")
            session.add(row)
        elif row.uid != uid:
            row.uid = uid  # recreated under the same name: same key, same address

        address = ctx.driver.allocate(session, key)
        state = ALLOCATED if address else PENDING
        changed = row.state != state
        if changed:
            row.state, row.updated_at = state, datetime.now(UTC)
            row.reason = None if address else POOL_EXHAUSTED
            if address:
                _record(session, "lb.address_allocated", svc, project, {"address": address})
            else:
                _record(
                    session,
                    "lb.allocation_refused",
                    svc,
                    project,
                    {"address": None, "reason": POOL_EXHAUSTED, "pool_size": len(ctx.pool)},
                )
        return {"state": state, "address": address, "reason": row.reason, "changed": changed}


def _pool_unset(session: Session, ctx: LbContext) -> bool:
    return ctx.driver.pool_state(session)["size"] == 0


def release(ctx: LbContext, key: str, svc: dict[str, Any] | None = None) -> str | None:
    """Return the Service's address to the pool and forget it (idempotent)."""
    namespace, _, name = key.partition("/")
    ref = svc or {"metadata": {"namespace": namespace, "name": name}}
    with ctx.db.transaction() as session:
        # The driver locks the address row first: of two concurrent releases (the API's and
        # the watch's), the second sees no address and records nothing.
        address = ctx.driver.release(session, key)
        project = session.scalar(select(LbService.project_id).where(LbService.service_key == key))
        if address is not None:
            _record(session, "lb.address_released", ref, project, {"address": address})
        session.execute(delete(LbService).where(LbService.service_key == key))
    if address is not None:
        logger.info("Service %s released load-balancer address %s", key, address)
    return address


def release_missing(ctx: LbContext, present: set[str], listed_at: datetime) -> list[str]:
    """After a full list: release the Services that no longer exist.

    Only rows older than the list count: a Service created through the API after the list
    was taken is not in it, yet exists.
    """
    with ctx.db.transaction() as session:
        known = list(
            session.scalars(select(LbService.service_key).where(LbService.updated_at < listed_at))
        )
    return [key for key in known if key not in present and release(ctx, key) is not None]


def retry_pending(ctx: LbContext) -> int:
    """Try again for pending Services; answers how many got an address."""
    with ctx.db.transaction() as session:
        pending = list(session.scalars(select(LbService).where(LbService.state == PENDING)))
    served = 0
    for row in pending:
        namespace, _, name = row.service_key.partition("/")
        try:
            svc = cluster.read_object("Service", namespace, name)
        except NetworkObjectNotFound:
            release(ctx, row.service_key)
            continue
        served += reconcile_service(ctx, svc, row.project_id)["address"] is not None
    return served


def _publish_address(svc: dict[str, Any], address: str) -> None:
    ingress = ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    if [i.get("ip") for i in ingress] == [address]:
        return
    meta = svc["metadata"]
    try:
        cluster.set_load_balancer_ingress(meta["namespace"], meta["name"], [address])
    except NetworkObjectNotFound:
        logger.info("Service %s went away before its address was written", service_key(svc))


def _kube_event(svc: dict[str, Any], reason: str, message: str, kind: str) -> None:
    try:
        cluster.record_kube_event({"kind": "Service", **svc}, reason, message, kind)
    except Exception as exc:  # the bus event is the record; the Kubernetes Event is a courtesy
        logger.warning("could not record Event %s on %s: %s", reason, service_key(svc), exc)


# -- members ---------------------------------------------------------------------------------


def ready_members(slices: list[dict[str, Any]]) -> dict[str, str | None]:
    """{ip: pod name} of every ready endpoint (ready unset counts as ready, per the API)."""
    members: dict[str, str | None] = {}
    for piece in slices:
        for endpoint in piece.get("endpoints") or []:
            conditions = endpoint.get("conditions") or {}
            if conditions.get("ready") is False or conditions.get("terminating") is True:
                continue
            pod = (endpoint.get("targetRef") or {}).get("name")
            for ip in endpoint.get("addresses") or []:
                members[ip] = pod
    return members


def sync_members(ctx: LbContext, namespace: str, name: str) -> tuple[int, int]:
    """Make the members of an allocated Service its ready endpoints; (added, removed)."""
    key = f"{namespace}/{name}"
    with ctx.db.transaction() as session:
        row = session.get(LbService, key)
        if row is None or row.state != ALLOCATED:
            return 0, 0
    wanted = ready_members(cluster.list_endpoint_slices(namespace, name))

    with ctx.db.transaction() as session:
        row = session.get(LbService, key)
        address = ctx.driver.address_of(session, key)
        if row is None or address is None:
            return 0, 0
        added, removed = ctx.driver.set_members(session, key, wanted)
        ref = {"metadata": {"namespace": namespace, "name": name, "uid": row.uid}}
        for event_type, changes in (("lb.member_added", added), ("lb.member_removed", removed)):
            for ip, pod in changes:
                _record(
                    session,
                    event_type,
                    ref,
                    row.project_id,
                    {"address": address, "member": ip, "pod": pod},
                )
    if added or removed:
        logger.info(
            "load balancer %s (%s): %d members added, %d removed",
            key,
            address,
            len(added),
            len(removed),
        )
    return len(added), len(removed)


def status_of(ctx: LbContext, key: str) -> dict[str, Any]:
    with ctx.db.transaction() as session:
        row = session.get(LbService, key)
        if row is None:
            return {"state": "none", "address": None, "reason": None, "members": {}}
        return {
            "state": row.state,
            "address": ctx.driver.address_of(session, key),
            "reason": row.reason,
            "members": ctx.driver.members(session, key),
        }
