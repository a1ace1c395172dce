"""The allocations ledger and its events, on a real (migrated SQLite) database."""

from typing import Any

from sqlalchemy import select

from services.gpu import allocations
from services.gpu.models import OutboxEvent
from shared.db import Database
from tests.unit.gpu.profile import gpu_pod


def events(database: Database) -> list[dict[str, Any]]:
    with database.transaction() as session:
        return [row.payload for row in session.scalars(select(OutboxEvent).order_by("seq"))]


def observe(database: Database, phase: str, uid: str = "u1") -> str | None:
    with database.transaction() as session:
        return allocations.observe_pod(
            session, gpu_pod(uid, "gpu-t4-0", 2, phase), "Tesla-T4", "p1"
        )


def test_a_pod_is_allocated_once_and_released_once(gpu_db: Database) -> None:
    assert observe(gpu_db, "Pending") is None
    assert observe(gpu_db, "Running") == "allocated"
    assert observe(gpu_db, "Running") is None  # the same event delivered again
    assert observe(gpu_db, "Succeeded") == "released"
    assert observe(gpu_db, "Succeeded") is None
    with gpu_db.transaction() as session:
        assert not allocations.observe_deleted(session, "u1")

    sent = events(gpu_db)
    assert [e["type"] for e in sent] == ["gpu.allocated", "gpu.released"]
    assert sent[0]["data"] == {
        "node": "gpu-t4-0",
        "model": "T4",
        "product": "Tesla-T4",
        "count": 2,
    }
    assert sent[0]["project"] == "p1"
    assert sent[0]["resource"] == {"kind": "Pod", "namespace": "ns", "name": "pod-u1", "uid": "u1"}


def test_deleted_and_missing_pods_are_released(gpu_db: Database) -> None:
    observe(gpu_db, "Running", "a")
    observe(gpu_db, "Running", "b")
    observe(gpu_db, "Running", "c")
    with gpu_db.transaction() as session:
        assert allocations.observe_deleted(session, "a")
        assert allocations.close_missing(session, {"b"}) == 1  # c vanished while unwatched
        assert [row["pod"]["uid"] for row in allocations.open_allocations(session)] == ["b"]
        assert allocations.open_allocations(session, "other-project") == []
    released = [e["resource"]["uid"] for e in events(gpu_db) if e["type"] == "gpu.released"]
    assert sorted(released) == ["a", "c"]
