"""Terminal transcripts on a real SQLite database: the size cap and repeated chunks."""

from typing import Any

import pytest

from services.audit import transcripts
from services.audit.exceptions import TranscriptNotFound


def _store(audit_db: Any, chunk: str, offset: int | None = None, cap: int = 10, **kw: Any):
    args = {"project_id": "pa", "pod": "web-0", "session_id": "s1", **kw}
    with audit_db.transaction() as session:
        return transcripts.store_chunk(session, chunk=chunk, offset=offset, cap=cap, **args)


def test_chunks_are_kept_up_to_the_cap_and_the_rest_is_counted(audit_db: Any) -> None:
    assert _store(audit_db, "hello ")["stored_bytes"] == 6
    answer = _store(audit_db, "world, more")
    assert answer["stored_bytes"] == 10
    assert answer["dropped_bytes"] == 7
    assert answer["truncated"] is True
    assert _store(audit_db, "again")["dropped_bytes"] == 12
    with audit_db.transaction() as session:
        assert transcripts.read(session, "pa", "s1")["content"] == "hello worl"


def test_a_repeated_chunk_with_its_offset_is_stored_once(audit_db: Any) -> None:
    _store(audit_db, "abc", offset=0, cap=100)
    _store(audit_db, "abc", offset=0, cap=100)
    answer = _store(audit_db, "def", offset=3, cap=100)
    assert answer["stored_bytes"] == 6


def test_another_project_cannot_read_or_write_a_session(audit_db: Any) -> None:
    _store(audit_db, "secret", cap=100)
    answer = _store(audit_db, "injected", cap=100, project_id="pb")
    assert answer["project_id"] == "pa" and answer["stored_bytes"] == 6
    with audit_db.transaction() as session, pytest.raises(TranscriptNotFound):
        transcripts.read(session, "pb", "s1")
