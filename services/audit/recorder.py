"""Turns event envelopes into audit records, once per event id.

The bus delivers at least once, so `store_event` first looks for the event id and stores
nothing when it is there; the unique constraint on `event_id` settles the race of two
deliveries handled at the same time (the loser's transaction fails and the caller treats it
as a duplicate).
"""

from __future__ import annotations

import logging
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.audit.models import (
    ACTOR_LENGTH,
    DENIED,
    ID_LENGTH,
    NAME_LENGTH,
    SUCCESS,
    TYPE_LENGTH,
    AuditRecord,
)
from shared.events import EventEnvelopeSchema

logger = logging.getLogger(__name__)

# Refused attempts rather than changes: recorded with outcome "denied".
DENIED_TYPES = frozenset({"access.denied", "auth.login_failed", "auth.login_locked"})


def parse_envelope(body: Any) -> dict[str, Any] | None:
    """The validated envelope, or None (logged) for a message that is not one."""
    try:
        return EventEnvelopeSchema().load(body)  # type: ignore[no-any-return]
    except (ValidationError, TypeError) as exc:
        messages = getattr(exc, "messages", str(exc))
        logger.warning("ignoring a message that is not an event envelope: %s", messages)
        return None


def record_from_envelope(envelope: dict[str, Any]) -> AuditRecord:
    resource = envelope["resource"]
    data = envelope.get("data") or {}
    denied = envelope["type"] in DENIED_TYPES
    # Values are clipped to their columns: a denied request's path is the caller's input,
    # and a record that can never be stored would come back forever.
    return AuditRecord(
        event_id=str(envelope["id"]),
        event_type=envelope["type"][:TYPE_LENGTH],
        occurred_at=envelope["occurred_at"],
        actor=envelope["actor"][:ACTOR_LENGTH],
        project_id=_text(envelope.get("project"), ID_LENGTH),
        resource_kind=resource["kind"][:TYPE_LENGTH],
        resource_namespace=_text(resource.get("namespace"), NAME_LENGTH),
        resource_name=resource["name"][: NAME_LENGTH * 2],
        resource_uid=_text(resource.get("uid"), ID_LENGTH),
        outcome=DENIED if denied else SUCCESS,
        source=_text(data.get("source"), ACTOR_LENGTH),
        request_id=_text(data.get("request_id"), ID_LENGTH),
        data=data,
    )


def _text(value: Any, length: int) -> str | None:
    return None if value is None else str(value)[:length]


def store_event(session: Session, envelope: dict[str, Any]) -> bool:
    """Store one event; False when its id was already stored (a redelivery)."""
    event_id = str(envelope["id"])
    found = session.scalar(select(AuditRecord).where(AuditRecord.event_id == event_id))
    if found is not None:
        found.deliveries += 1
        logger.debug("event %s already recorded", event_id)
        return False
    session.add(record_from_envelope(envelope))
    session.flush()
    logger.debug(
        "recorded %s %s by %s in project %s",
        envelope["type"],
        event_id,
        envelope["actor"],
        envelope.get("project"),
    )
    return True
