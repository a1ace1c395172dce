"""The event envelope and the outbox table that carries events out of a transaction.

A state change and its event are written in one transaction: the service adds an outbox row in
the same session (`record_event`), and the relay (shared/outbox.py) publishes it afterwards with
publisher confirms; a relay in the same process is woken as soon as such a transaction commits
(`on_outbox_commit`), so an event does not wait for the relay's next poll. Every event travels
on the topic exchange `scs.events` with its type as the routing key, so any AMQP client can
follow the bus, and nameko handlers subscribe with `@event_handler("scs", "<type>")`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from marshmallow import RAISE, Schema, fields, validate
from sqlalchemy import JSON, DateTime, Integer, String, Text, event
from sqlalchemy.orm import Mapped, Session, mapped_column

logger = logging.getLogger(__name__)

EVENT_EXCHANGE = "scs.events"
# nameko's event handlers bind to "<source>.events"; the suite has one source, "scs".
EVENT_SOURCE = "scs"
SCHEMA_VERSION = 1

SYSTEM_ACTOR = "system"


class ResourceRefSchema(Schema):
    class Meta:
        unknown = RAISE

    kind = fields.String(required=True)
    namespace = fields.String(allow_none=True, load_default=None)
    name = fields.String(required=True)
    uid = fields.String(allow_none=True, load_default=None)


class EventEnvelopeSchema(Schema):
    """The one envelope of every event on the bus (schema version 1)."""

    class Meta:
        unknown = RAISE

    id = fields.UUID(required=True)
    type = fields.String(required=True, validate=validate.Regexp(r"^[a-z_]+(\.[a-z_]+)+$"))
    occurred_at = fields.AwareDateTime(required=True, default_timezone=UTC)
    actor = fields.String(required=True)
    project = fields.String(allow_none=True, load_default=None)
    resource = fields.Nested(ResourceRefSchema, required=True)
    data = fields.Dict(keys=fields.String(), load_default=dict)
    schema_version = fields.Integer(required=True, validate=validate.Equal(SCHEMA_VERSION))


def new_event(
    event_type: str,
    *,
    actor: str,
    resource: dict[str, Any],
    project: str | None = None,
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Build a validated envelope as a JSON-ready dictionary."""
    envelope = {
        "id": str(uuid.uuid4()),
        "type": event_type,
        "occurred_at": datetime.now(UTC).isoformat(),
        "actor": actor,
        "project": project,
        "resource": resource,
        "data": data or {},
        "schema_version": SCHEMA_VERSION,
    }
    schema = EventEnvelopeSchema()
    return schema.dump(schema.load(envelope))


class OutboxMixin:
    """Columns of a service's `outbox` table; each service maps it on its own Base."""

    __tablename__ = "outbox"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True, nullable=False)
    event_type: Mapped[str] = mapped_column(String(128), nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=lambda: datetime.now(UTC)
    )
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)


# session.info key: the outbox tables this transaction wrote events to
_WRITTEN = "scs.outbox_written"
# outbox table -> callbacks of the relays waiting for its events (shared/outbox.py)
_listeners: dict[type, list[Callable[[], None]]] = {}


def record_event(session: Any, outbox_model: type, envelope: dict[str, Any]) -> None:
    """Add the event to the outbox in the caller's transaction."""
    session.add(
        outbox_model(event_id=envelope["id"], event_type=envelope["type"], payload=envelope)
    )
    session.info.setdefault(_WRITTEN, set()).add(outbox_model)


def on_outbox_commit(outbox_model: type, callback: Callable[[], None]) -> Callable[[], None]:
    """Call `callback` after each commit that recorded an event in `outbox_model`'s table;
    answers the function that removes it."""
    _listeners.setdefault(outbox_model, []).append(callback)
    return lambda: _listeners.get(outbox_model, []).remove(callback)


@event.listens_for(Session, "after_commit")
def _wake_relays(session: Session) -> None:
    for model in session.info.pop(_WRITTEN, ()):
        for callback in list(_listeners.get(model, ())):
            try:
                callback()
            except Exception:  # a relay that cannot be woken still polls; never fail a commit
                logger.debug("waking the relay of %s failed", model, exc_info=True)


@event.listens_for(Session, "after_rollback")
def _forget_written(session: Session) -> None:
    session.info.pop(_WRITTEN, None)
