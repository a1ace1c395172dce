"""nameko entrypoints of the audit service; the rules live in recorder.py, query.py and
transcripts.py.

Subscribes to every event type on `scs.events` (routing key `#`) with a durable queue, so
events published while the service is down wait for it. Requests the gateway denied arrive as
`access.denied` events. The gateway reads the trail through `search` and `export_batch`, and the
workload service will stream terminal sessions through `store_transcript`.
"""

from __future__ import annotations

import logging
from typing import Any

import eventlet
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from services.audit import query, recorder, transcripts
from services.audit.schemas import (
    TranscriptChunkSchema,
    TranscriptRefSchema,
    load_args,
    load_filters,
)
from shared.db import DatabaseProvider
from shared.errors import ScsError
from shared.events import EVENT_SOURCE
from shared.health import HealthRpc
from shared.rpc import rpc
from shared.subscriptions import event_handler

logger = logging.getLogger(__name__)

ALL_EVENTS = "#"
RETRY_PAUSE_SECONDS = 1.0


class AuditService(HealthRpc):
    """The audit trail: every event, every denied request, terminal transcripts."""

    name = "audit"

    db = DatabaseProvider("audit")

    @event_handler(EVENT_SOURCE, ALL_EVENTS, requeue_on_error=True)
    def handle_event(self, body: Any) -> None:
        """Store one event once. A database failure requeues the message (raised here);
        a message that is not an envelope is logged and dropped (it can never succeed)."""
        envelope = recorder.parse_envelope(body)
        if envelope is None:
            return
        try:
            with self.db.transaction() as session:
                recorder.store_event(session, envelope)
        except IntegrityError:
            # Another delivery of the same event committed first.
            logger.info("event %s was recorded by a concurrent delivery", envelope["id"])
        except SQLAlchemyError:
            # The database is away: the message goes back to the broker, but not in a tight
            # loop of immediate redeliveries.
            logger.warning("audit database unavailable; event %s requeued", envelope["id"])
            eventlet.sleep(RETRY_PAUSE_SECONDS)
            raise

    @rpc(expected_exceptions=ScsError)
    def search(self, filters: dict[str, Any]) -> dict[str, Any]:
        """search({"project_id": "p1", "type": "workload.*", "limit": 50})
        -> {"items": [record, ...], "total": 7, "limit": 50, "offset": 0}

        Scope: `project_id`, or `all_projects: true` (the cloud admin's view; with
        `cluster_only: true` only records of no project). Raises InvalidAuditFilter.
        """
        payload = load_filters(filters)
        with self.db.transaction() as session:
            return query.search(session, payload)

    @rpc(expected_exceptions=ScsError)
    def export_batch(self, filters: dict[str, Any], after_seq: int = 0) -> dict[str, Any]:
        """export_batch({"project_id": "p1"}, after_seq=0)
        -> {"items": [record, ...], "next": 512 or None}; call again with after_seq=next."""
        payload = load_filters(filters)
        with self.db.transaction() as session:
            return query.export_batch(session, payload, int(after_seq))

    @rpc(expected_exceptions=ScsError)
    def store_transcript(
        self,
        project_id: str,
        pod: str,
        session_id: str,
        chunk: str,
        offset: int | None = None,
    ) -> dict[str, Any]:
        """Append terminal output to a session's transcript, up to the size cap.

        store_transcript("p1", "web-0", "s-42", "ls\\r\\n", offset=0)
        -> {"session_id": "s-42", "stored_bytes": 4, "dropped_bytes": 0, "truncated": false,
            ...}
        `offset` (the chunk's byte offset in the stream) makes a repeated call harmless.
        """
        payload = load_args(
            TranscriptChunkSchema(),
            {
                "project_id": project_id,
                "pod": pod,
                "session_id": session_id,
                "chunk": chunk,
                "offset": offset,
            },
        )
        with self.db.transaction() as session:
            return transcripts.store_chunk(session, **payload, cap=transcripts.cap_bytes())

    @rpc(expected_exceptions=ScsError)
    def get_transcript(self, project_id: str, session_id: str) -> dict[str, Any]:
        """The stored transcript with its content; raises TranscriptNotFound."""
        payload = load_args(
            TranscriptRefSchema(), {"project_id": project_id, "session_id": session_id}
        )
        with self.db.transaction() as session:
            return transcripts.read(session, **payload)
