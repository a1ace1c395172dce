"""Terminal session transcripts, stored as audit artefacts up to a size cap per session.

The workload service streams a session's output in chunks (`store_transcript`). Once a
session holds `cap` bytes, later chunks are counted in `dropped_bytes` and the transcript is
marked truncated: an audit that fills the disk would be a denial of service by a tenant.
A chunk that carries its stream offset is stored once even when the call is repeated.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.audit.exceptions import TranscriptNotFound
from services.audit.models import Transcript, TranscriptChunk, utcnow

logger = logging.getLogger(__name__)

DEFAULT_CAP_BYTES = 1024 * 1024


def cap_bytes() -> int:
    """SCS_AUDIT_TRANSCRIPT_MAX_BYTES, default 1 MiB per session."""
    raw = os.environ.get("SCS_AUDIT_TRANSCRIPT_MAX_BYTES")
    return int(raw) if raw else DEFAULT_CAP_BYTES


def _transcript(session: Session, project_id: str, pod: str, session_id: str) -> Transcript:
    found = session.scalar(
        select(Transcript).where(Transcript.session_id == session_id).with_for_update()
    )
    if found is None:
        found = Transcript(
            session_id=session_id,
            project_id=project_id,
            pod=pod,
            stored_bytes=0,
            dropped_bytes=0,
            chunks=0,
            truncated=False,
        )
        session.add(found)
        session.flush()
    return found


def _already_stored(session: Session, transcript: Transcript, offset: int | None) -> bool:
    if offset is None:
        return False
    found = session.scalar(
        select(TranscriptChunk.seq).where(
            TranscriptChunk.transcript_id == transcript.id,
            TranscriptChunk.stream_offset == offset,
        )
    )
    return found is not None


def store_chunk(
    session: Session,
    project_id: str,
    pod: str,
    session_id: str,
    chunk: str,
    offset: int | None,
    cap: int,
) -> dict[str, Any]:
    """Append a chunk within the cap; answers the transcript's summary."""
    transcript = _transcript(session, project_id, pod, session_id)
    if transcript.project_id != project_id or transcript.pod != pod:
        # A session id is the workload service's; reusing one elsewhere is refused quietly
        # by storing nothing, so one tenant cannot write into another's transcript.
        logger.warning("transcript %s belongs to another pod; chunk dropped", session_id)
        return summary(transcript)
    if _already_stored(session, transcript, offset):
        return summary(transcript)

    data = chunk.encode("utf-8")
    room = max(cap - transcript.stored_bytes, 0)
    kept = data[:room].decode("utf-8", errors="ignore")
    kept_bytes = len(kept.encode("utf-8"))
    if kept:
        session.add(
            TranscriptChunk(
                transcript_id=transcript.id,
                seq=transcript.chunks,
                stream_offset=offset,
                content=kept,
            )
        )
        transcript.chunks += 1
    transcript.stored_bytes += kept_bytes
    if kept_bytes < len(data):
        transcript.dropped_bytes += len(data) - kept_bytes
        transcript.truncated = True
    transcript.updated_at = utcnow()
    logger.info(
        "transcript %s of pod %s in project %s: +%d bytes stored, %d dropped",
        session_id,
        pod,
        project_id,
        kept_bytes,
        len(data) - kept_bytes,
    )
    return summary(transcript)


def summary(transcript: Transcript) -> dict[str, Any]:
    return {
        "session_id": transcript.session_id,
        "project_id": transcript.project_id,
        "pod": transcript.pod,
        "started_at": transcript.started_at.isoformat(),
        "updated_at": transcript.updated_at.isoformat(),
        "stored_bytes": transcript.stored_bytes,
        "dropped_bytes": transcript.dropped_bytes,
        "truncated": transcript.truncated,
    }


def read(session: Session, project_id: str, session_id: str) -> dict[str, Any]:
    """The whole transcript of a session of this project (TranscriptNotFound otherwise)."""
    transcript = session.scalar(
        select(Transcript).where(
            Transcript.session_id == session_id, Transcript.project_id == project_id
        )
    )
    if transcript is None:
        raise TranscriptNotFound(
            f"no transcript {session_id} in project {project_id}", {"session_id": session_id}
        )
    chunks = session.scalars(
        select(TranscriptChunk.content)
        .where(TranscriptChunk.transcript_id == transcript.id)
        .order_by(TranscriptChunk.seq)
    )
    return {**summary(transcript), "content": "".join(chunks)}
