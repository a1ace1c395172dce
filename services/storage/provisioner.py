"""The provisioner: claims of this service's classes become volumes, PVs and quota charges.

Claim watch (handle_claim):
- a new claim: reserve `storage.<class>` for its size (key from the claim's annotation when the
  API made it, else `pvc-<uid>`), create the backing volume through the block driver, create
  the PV with a claimRef to the claim (the cluster's PV controller binds them), record
  `volume.provisioned`. Over quota: the claim stays Pending with a Warning Event and
  `volume.provisioning_refused` (once); the next full list tries again.
- bound: commit the reservation.
- asked to grow: reserve the difference, grow the volume, the PV's capacity and the claim's
  status capacity, commit, record `volume.expanded`; over quota: a Warning Event and
  `volume.expansion_refused` (once per size), nothing grows.
Volume watch (handle_volume): a PV of ours that is Released with policy Delete, or deleted,
loses its backing volume; its charges are released; `volume.deleted` is recorded.
Everything compares wanted with stored state first, so repeated events change nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from services.storage import charges, classes, cluster, namespaces
from services.storage.charges import StorageQuotaExceeded
from services.storage.drivers import BlockDriver
from services.storage.exceptions import StorageObjectExists, StorageObjectNotFound
from services.storage.models import (
    BOUND,
    DELETED,
    PROVISIONED,
    REFUSED,
    OutboxEvent,
    Volume,
    VolumeCharge,
)
from shared.db import Database
from shared.events import SYSTEM_ACTOR, new_event, record_event
from shared.quantity import bytes_of

logger = logging.getLogger(__name__)

RESERVATION_ANNOTATION = "storage.scs.io/reservation"
PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"


@dataclass
class StorageContext:
    db: Database
    driver: BlockDriver
    quota: Any
    selector: str


def claim_size(pvc: dict[str, Any]) -> int:
    requests = ((pvc.get("spec") or {}).get("resources") or {}).get("requests") or {}
    return bytes_of(requests.get("storage", "0"))


def _record(session: Any, event_type: str, vol: Volume, data: dict[str, Any]) -> None:
    resource = {
        "kind": "PersistentVolumeClaim",
        "namespace": vol.namespace,
        "name": vol.claim_name,
        "uid": vol.claim_uid,
    }
    event = new_event(
        event_type,
        actor=SYSTEM_ACTOR,
        project=vol.project_id,
        resource=resource,
        data={
            "storage_class": vol.storage_class,
            "size_bytes": vol.size_bytes,
            "volume": vol.pv_name,
            **data,
        },
    )
    record_event(session, OutboxEvent, event)


def _kube_event(pvc: dict[str, Any], reason: str, message: str, kind: str = "Normal") -> None:
    try:
        cluster.record_kube_event(pvc, reason, message, kind)
    except Exception as exc:  # the bus event is the record; the Kubernetes Event a courtesy
        logger.warning("could not record Event %s: %s", reason, exc)


def _load(ctx: StorageContext, uid: str) -> Volume | None:
    with ctx.db.transaction() as session:
        return session.get(Volume, uid)


# -- claims ----------------------------------------------------------------------------------


def handle_claim(ctx: StorageContext, event_type: str, pvc: dict[str, Any]) -> str:
    """Act on one claim event; answers what was done (for logs and tests)."""
    if event_type == "SYNCED":
        return "ignored"
    meta, spec = pvc["metadata"], pvc.get("spec") or {}
    if spec.get("storageClassName") not in classes.CLASSES:
        return "ignored"
    served, project = namespaces.served_project(meta["namespace"], ctx.selector)
    if not served:
        return "ignored"
    if event_type == "DELETED" or meta.get("deletionTimestamp"):
        return forget_claim(ctx, pvc)

    vol = _load(ctx, meta["uid"])
    if vol is None or vol.state == REFUSED:
        return provision(ctx, pvc, project, vol)
    if vol.state == PROVISIONED and (pvc.get("status") or {}).get("phase") == "Bound":
        mark_bound(ctx, vol)
        vol.state = BOUND
    if vol.state == BOUND:
        return expand_if_asked(ctx, pvc, vol)
    return "unchanged"


def provision(
    ctx: StorageContext, pvc: dict[str, Any], project: str | None, vol: Volume | None
) -> str:
    meta, spec = pvc["metadata"], pvc["spec"]
    storage_class, size = spec["storageClassName"], claim_size(pvc)
    key = (meta.get("annotations") or {}).get(RESERVATION_ANNOTATION) or f"pvc-{meta['uid']}"
    if project is None:
        return _refuse(ctx, pvc, None, vol, size, "the namespace has no scs.io/project label")
    try:
        key = charges.reserve(ctx.quota, project, key, storage_class, size, SYSTEM_ACTOR)
    except StorageQuotaExceeded as exc:
        return _refuse(ctx, pvc, project, vol, size, exc.message)

    volume_id = f"pvc-{meta['uid']}"
    location = ctx.driver.create_volume(volume_id, size, storage_class)
    try:
        cluster.create_volume(pv_manifest(pvc, volume_id, location, size))
    except StorageObjectExists:
        logger.debug("PV %s already exists", volume_id)

    with ctx.db.transaction() as session:
        row = session.get(Volume, meta["uid"])
        if row is None:
            row = Volume(claim_uid=meta["uid"], volume_id=volume_id)
            session.add(row)
        row.namespace, row.claim_name, row.project_id = meta["namespace"], meta["name"], project
        row.storage_class, row.size_bytes, row.pv_name = storage_class, size, volume_id
        row.location, row.state, row.reason = location, PROVISIONED, None
        session.flush()
        if session.get(VolumeCharge, key) is None:
            session.add(
                VolumeCharge(key=key, claim_uid=meta["uid"], size_bytes=size, state="reserved")
            )
        _record(session, "volume.provisioned", row, {})
    logger.info(
        "volume %s (%s, %d bytes) provisioned for %s/%s",
        volume_id,
        storage_class,
        size,
        meta["namespace"],
        meta["name"],
    )
    _kube_event(pvc, "ProvisioningSucceeded", f"volume {volume_id} provisioned")
    return "provisioned"


def pv_manifest(pvc: dict[str, Any], volume_id: str, location: str, size: int) -> dict[str, Any]:
    meta, spec = pvc["metadata"], pvc["spec"]
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {
            "name": volume_id,
            "labels": {"scs.io/managed": "true", "scs.io/storage-class": spec["storageClassName"]},
            "annotations": {PROVISIONED_BY: classes.PROVISIONER},
        },
        "spec": {
            "capacity": {"storage": str(size)},
            "accessModes": spec.get("accessModes") or ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Delete",
            "storageClassName": spec["storageClassName"],
            "volumeMode": spec.get("volumeMode") or "Filesystem",
            # The simulated nodes mount nothing; the path names the backing sparse file.
            "hostPath": {"path": location},
            "claimRef": {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "namespace": meta["namespace"],
                "name": meta["name"],
                "uid": meta["uid"],
            },
        },
    }


def _refuse(
    ctx: StorageContext,
    pvc: dict[str, Any],
    project: str | None,
    vol: Volume | None,
    size: int,
    reason: str,
) -> str:
    meta = pvc["metadata"]
    if vol is not None and vol.state == REFUSED and vol.size_bytes == size:
        return "refused"  # announced already
    with ctx.db.transaction() as session:
        row = session.get(Volume, meta["uid"]) or Volume(
            claim_uid=meta["uid"], volume_id=f"pvc-{meta['uid']}"
        )
        row.namespace, row.claim_name, row.project_id = meta["namespace"], meta["name"], project
        row.storage_class, row.size_bytes = pvc["spec"]["storageClassName"], size
        row.state, row.reason = REFUSED, reason[:255]
        session.merge(row)
        _record(session, "volume.provisioning_refused", row, {"reason": reason})
    logger.warning("claim %s/%s not provisioned: %s", meta["namespace"], meta["name"], reason)
    _kube_event(pvc, "ProvisioningFailed", reason, "Warning")
    return "refused"


def mark_bound(ctx: StorageContext, vol: Volume) -> None:
    with ctx.db.transaction() as session:
        pending = list(
            session.scalars(
                select(VolumeCharge).where(
                    VolumeCharge.claim_uid == vol.claim_uid, VolumeCharge.state == "reserved"
                )
            )
        )
    committed = {
        charge.key: charges.commit_or_renew(
            ctx.quota, vol.project_id or "", charge.key, vol.storage_class, charge.size_bytes
        )
        for charge in pending
    }
    with ctx.db.transaction() as session:
        for old_key, key in committed.items():
            row = session.get(VolumeCharge, old_key)
            assert row is not None
            row.key, row.state = key, "committed"
        session.get(Volume, vol.claim_uid).state = BOUND  # type: ignore[union-attr]
    logger.info("claim %s/%s bound to %s", vol.namespace, vol.claim_name, vol.pv_name)


def expand_if_asked(ctx: StorageContext, pvc: dict[str, Any], vol: Volume) -> str:
    wanted = claim_size(pvc)
    if wanted <= vol.size_bytes:
        _sync_status_capacity(pvc, vol.size_bytes)
        return "unchanged"
    if vol.refused_size == wanted:
        return "refused"
    key = expansion_key(vol.claim_uid, wanted)
    try:
        key = charges.reserve(
            ctx.quota,
            vol.project_id or "",
            key,
            vol.storage_class,
            wanted - vol.size_bytes,
            SYSTEM_ACTOR,
        )
    except StorageQuotaExceeded as exc:
        return _refuse_expansion(ctx, pvc, vol, wanted, exc.message)

    ctx.driver.expand_volume(vol.volume_id, vol.storage_class, wanted)
    cluster.patch_volume(
        vol.pv_name or vol.volume_id, {"spec": {"capacity": {"storage": str(wanted)}}}
    )
    _sync_status_capacity(pvc, wanted)
    key = charges.commit_or_renew(
        ctx.quota, vol.project_id or "", key, vol.storage_class, wanted - vol.size_bytes
    )
    with ctx.db.transaction() as session:
        row = session.get(Volume, vol.claim_uid)
        assert row is not None
        previous, row.size_bytes, row.refused_size = row.size_bytes, wanted, None
        if session.get(VolumeCharge, key) is None:
            session.add(
                VolumeCharge(
                    key=key,
                    claim_uid=row.claim_uid,
                    size_bytes=wanted - previous,
                    state="committed",
                )
            )
        _record(session, "volume.expanded", row, {"previous_size_bytes": previous})
    logger.info("volume %s expanded from %d to %d bytes", vol.volume_id, previous, wanted)
    _kube_event(pvc, "VolumeResizeSuccessful", f"expanded to {wanted} bytes")
    return "expanded"


def expansion_key(claim_uid: str, size: int) -> str:
    return f"pvc-{claim_uid}-expand-{size}"


def _refuse_expansion(
    ctx: StorageContext, pvc: dict[str, Any], vol: Volume, wanted: int, reason: str
) -> str:
    with ctx.db.transaction() as session:
        row = session.get(Volume, vol.claim_uid)
        assert row is not None
        row.refused_size = wanted
        _record(
            session,
            "volume.expansion_refused",
            row,
            {"requested_size_bytes": wanted, "reason": reason},
        )
    logger.warning(
        "expansion of %s/%s to %d bytes refused: %s", vol.namespace, vol.claim_name, wanted, reason
    )
    _kube_event(pvc, "VolumeResizeFailed", reason, "Warning")
    return "refused"


def _sync_status_capacity(pvc: dict[str, Any], size: int) -> None:
    capacity = ((pvc.get("status") or {}).get("capacity") or {}).get("storage")
    if (pvc.get("status") or {}).get("phase") != "Bound":
        return
    if capacity is not None and bytes_of(capacity) == size:
        return
    meta = pvc["metadata"]
    cluster.patch_claim_status(
        meta["namespace"], meta["name"], {"status": {"capacity": {"storage": str(size)}}}
    )


def forget_claim(ctx: StorageContext, pvc: dict[str, Any]) -> str:
    """A claim went away: only a claim that never got a PV is settled here."""
    vol = _load(ctx, pvc["metadata"]["uid"])
    if vol is None or vol.state != REFUSED:
        return "waiting for the volume"  # its PV is Released and handled by handle_volume
    _settle(ctx, vol, delete_backing=False)
    return "forgotten"


# -- volumes ---------------------------------------------------------------------------------


def handle_volume(ctx: StorageContext, event_type: str, pv: dict[str, Any]) -> str:
    if event_type == "SYNCED":
        return "ignored"
    meta, spec = pv["metadata"], pv.get("spec") or {}
    if (meta.get("annotations") or {}).get(PROVISIONED_BY) != classes.PROVISIONER:
        return "ignored"
    released = (pv.get("status") or {}).get("phase") == "Released"
    if event_type != "DELETED" and not (
        released and spec.get("persistentVolumeReclaimPolicy") == "Delete"
    ):
        return "unchanged"

    uid = (spec.get("claimRef") or {}).get("uid")
    vol = _load(ctx, uid) if uid else None
    if vol is not None and vol.state != DELETED:
        _settle(ctx, vol, delete_backing=True)
    if event_type != "DELETED":
        try:
            cluster.delete_volume(meta["name"])
        except StorageObjectNotFound:
            pass
    return "deleted"


def _settle(ctx: StorageContext, vol: Volume, delete_backing: bool) -> None:
    """Delete the backing volume (when asked) and release every charge of the claim."""
    if delete_backing:
        ctx.driver.delete_volume(vol.volume_id, vol.storage_class)
    with ctx.db.transaction() as session:
        keys = list(
            session.scalars(
                select(VolumeCharge.key).where(
                    VolumeCharge.claim_uid == vol.claim_uid, VolumeCharge.state != "released"
                )
            )
        )
    for key in keys:
        charges.release(ctx.quota, key, SYSTEM_ACTOR)
    with ctx.db.transaction() as session:
        row = session.get(Volume, vol.claim_uid)
        assert row is not None
        for key in keys:
            session.get(VolumeCharge, key).state = "released"  # type: ignore[union-attr]
        if delete_backing:
            _record(session, "volume.deleted", row, {})
        row.state = DELETED
    logger.info(
        "volume %s of %s/%s deleted, %d charges released",
        vol.volume_id,
        vol.namespace,
        vol.claim_name,
        len(keys),
    )
