"""Applies lifecycle events to billing's facts, once per event id.

pod.started / pod.stopped   -> the pod's interval (times from the event data)
volume.provisioned/expanded -> the volume's size from the event's occurred_at on
volume.deleted              -> size 0 from then on
gpu.allocated / gpu.released -> devices of the allocation from then on (0 once released)

Every applied event id is stored in the same transaction as the facts it changes, so a
redelivery (at-least-once bus) changes nothing. Events that reach billing in any order give
the same facts: a pod.stopped before its pod.started leaves a row that waits for its start.
"""

from __future__ import annotations

import logging
from datetime import UTC
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate
from sqlalchemy.orm import Session

from services.billing.models import AppliedEvent, GpuChange, PodInterval, VolumeChange
from shared.events import EventEnvelopeSchema

logger = logging.getLogger(__name__)

POD_TYPES = ("pod.started", "pod.stopped")
VOLUME_TYPES = ("volume.provisioned", "volume.expanded", "volume.deleted")
GPU_TYPES = ("gpu.allocated", "gpu.released")
ROUTING_KEYS = ("pod.*", "volume.*", "gpu.*")


def _quantity(**kwargs: Any) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(min=0, max=2**62), **kwargs)


class _Lenient(Schema):
    class Meta:
        unknown = EXCLUDE  # producers may add fields; billing reads what it needs


class PodDataSchema(_Lenient):
    node = fields.String(load_default=None, allow_none=True)
    cpu_millicores = _quantity(required=True)
    memory_bytes = _quantity(required=True)
    overhead_cpu_millicores = _quantity(load_default=0)
    overhead_memory_bytes = _quantity(load_default=0)
    gpu_count = _quantity(load_default=0)
    gpu_model = fields.String(load_default=None, allow_none=True)
    started_at = fields.AwareDateTime(load_default=None, allow_none=True, default_timezone=UTC)
    stopped_at = fields.AwareDateTime(load_default=None, allow_none=True, default_timezone=UTC)


class VolumeDataSchema(_Lenient):
    storage_class = fields.String(required=True, validate=validate.Length(min=1, max=253))
    size_bytes = _quantity(load_default=0)


class GpuDataSchema(_Lenient):
    node = fields.String(load_default=None, allow_none=True)
    model = fields.String(required=True, validate=validate.Length(min=1, max=253))
    count = _quantity(load_default=0)


class NotApplicable(Exception):
    """An event billing cannot use (malformed); it is logged and marked applied."""


def resource_key(resource: dict[str, Any]) -> str:
    """The pod's, volume's or allocation's identity: its uid, else namespace/name."""
    return resource.get("uid") or f"{resource.get('namespace') or ''}/{resource['name']}"


def apply_event(session: Session, body: Any) -> str:
    """Apply one message; answers "applied", "duplicate" or "skipped"."""
    try:
        envelope = EventEnvelopeSchema().load(body)
    except (ValidationError, TypeError) as exc:
        logger.warning("ignoring a message that is not an event envelope: %s", exc)
        return "skipped"
    event_id = str(envelope["id"])
    seen = session.get(AppliedEvent, event_id)
    if seen is not None:
        seen.deliveries += 1
        return "duplicate"

    session.add(
        AppliedEvent(
            event_id=event_id, event_type=envelope["type"], project_id=envelope["project"]
        )
    )
    if envelope["project"] is None:
        return "skipped"
    try:
        _apply(session, envelope)
    except NotApplicable as exc:
        logger.warning("event %s (%s) not billable: %s", event_id, envelope["type"], exc)
        return "skipped"
    session.flush()
    logger.debug("billed %s %s of project %s", envelope["type"], event_id, envelope["project"])
    return "applied"


def _load(schema: Schema, data: dict[str, Any]) -> dict[str, Any]:
    try:
        return schema.load(data)  # type: ignore[no-any-return]
    except ValidationError as exc:
        raise NotApplicable(str(exc.messages)) from exc


def _apply(session: Session, envelope: dict[str, Any]) -> None:
    kind = envelope["type"]
    if kind in POD_TYPES:
        _apply_pod(session, envelope, _load(PodDataSchema(), envelope["data"]))
    elif kind in VOLUME_TYPES:
        _apply_volume(session, envelope, _load(VolumeDataSchema(), envelope["data"]))
    elif kind in GPU_TYPES:
        _apply_gpu(session, envelope, _load(GpuDataSchema(), envelope["data"]))
    else:
        raise NotApplicable(f"billing does not meter {kind}")


def _apply_pod(session: Session, envelope: dict[str, Any], data: dict[str, Any]) -> None:
    started = envelope["type"] == "pod.started"
    moment = data["started_at" if started else "stopped_at"] or envelope["occurred_at"]
    resource = envelope["resource"]
    key = (envelope["project"], resource_key(resource))
    row = session.get(PodInterval, key)
    if row is None:
        row = PodInterval(project_id=key[0], pod_key=key[1], name=resource["name"])
        session.add(row)
        _set_resources(row, resource, data)
    elif started:
        _set_resources(row, resource, data)  # the start carries what the pod asked for
    if started:
        row.started_at = moment
    else:
        row.stopped_at = moment


def _set_resources(row: PodInterval, resource: dict[str, Any], data: dict[str, Any]) -> None:
    row.namespace = resource.get("namespace")
    row.node = data["node"]
    row.cpu_millicores = data["cpu_millicores"]
    row.overhead_cpu_millicores = data["overhead_cpu_millicores"]
    row.memory_bytes = data["memory_bytes"]
    row.overhead_memory_bytes = data["overhead_memory_bytes"]
    row.gpu_count = data["gpu_count"]
    row.gpu_model = data["gpu_model"]


def _apply_volume(session: Session, envelope: dict[str, Any], data: dict[str, Any]) -> None:
    deleted = envelope["type"] == "volume.deleted"
    session.add(
        VolumeChange(
            event_id=str(envelope["id"]),
            project_id=envelope["project"],
            volume_key=resource_key(envelope["resource"]),
            storage_class=data["storage_class"],
            size_bytes=0 if deleted else data["size_bytes"],
            at=envelope["occurred_at"],
        )
    )


def _apply_gpu(session: Session, envelope: dict[str, Any], data: dict[str, Any]) -> None:
    released = envelope["type"] == "gpu.released"
    session.add(
        GpuChange(
            event_id=str(envelope["id"]),
            project_id=envelope["project"],
            allocation_key=resource_key(envelope["resource"]),
            model=data["model"],
            node=data["node"],
            count=0 if released else data["count"],
            at=envelope["occurred_at"],
        )
    )
