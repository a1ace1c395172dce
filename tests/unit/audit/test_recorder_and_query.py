"""The audit trail's rules on a real SQLite database: once per event id, scoping, filters."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.audit import query, recorder
from services.audit.exceptions import InvalidAuditFilter
from services.audit.schemas import load_filters
from shared.events import new_event

T0 = datetime(2026, 12, 1, tzinfo=UTC)


def _event(kind: str, project: str | None, actor: str, name: str, minute: int) -> dict[str, Any]:
    envelope = new_event(
        kind,
        actor=actor,
        project=project,
        resource={"kind": "Deployment", "namespace": "ns", "name": name},
        data={"revision": 1},
    )
    envelope["occurred_at"] = (T0 + timedelta(minutes=minute)).isoformat()
    return recorder.parse_envelope(envelope)  # type: ignore[return-value]


def _store(audit_db: Any, *events: dict[str, Any]) -> list[bool]:
    with audit_db.transaction() as session:
        return [recorder.store_event(session, e) for e in events]


def _search(audit_db: Any, **filters: Any) -> dict[str, Any]:
    with audit_db.transaction() as session:
        return query.search(session, load_filters(filters))


def test_an_event_is_stored_once_however_often_it_arrives(audit_db: Any) -> None:
    event = _event("workload.created", "pa", "u1", "web", 0)
    assert _store(audit_db, event, event) == [True, False]
    assert _store(audit_db, event) == [False]
    answer = _search(audit_db, project_id="pa")
    assert answer["total"] == 1 and answer["items"][0]["deliveries"] == 3


def test_a_project_sees_only_its_records_under_every_filter(audit_db: Any) -> None:
    _store(
        audit_db,
        _event("workload.created", "pa", "u1", "web", 0),
        _event("workload.created", "pb", "u1", "web", 0),
        _event("workload.deleted", "pb", "u2", "db", 5),
        _event("node.cordoned", None, "admin", "n1", 6),
    )
    filters: list[dict[str, Any]] = [
        {},
        {"actor": "u1"},
        {"actor": "u2"},
        {"type": "workload.*"},
        {"type": "workload.deleted"},
        {"resource_kind": "Deployment"},
        {"resource_name": "db"},
        {"resource_namespace": "ns"},
        {"since": (T0 - timedelta(days=1)).isoformat()},
        {"until": (T0 + timedelta(days=1)).isoformat()},
        {"outcome": "success"},
    ]
    for extra in filters:
        answer = _search(audit_db, project_id="pa", **extra)
        assert {item["project_id"] for item in answer["items"]} <= {"pa"}, extra


def test_filters_select_what_they_name(audit_db: Any) -> None:
    _store(
        audit_db,
        _event("workload.created", "pa", "u1", "web", 0),
        _event("workload.scaled", "pa", "u2", "web", 10),
        _event("config.created", "pa", "u1", "settings", 20),
    )
    assert _search(audit_db, project_id="pa", actor="u1")["total"] == 2
    assert _search(audit_db, project_id="pa", type="workload.*")["total"] == 2
    assert _search(audit_db, project_id="pa", resource_name="settings")["total"] == 1
    window = _search(
        audit_db,
        project_id="pa",
        since=(T0 + timedelta(minutes=5)).isoformat(),
        until=(T0 + timedelta(minutes=15)).isoformat(),
    )
    assert [item["type"] for item in window["items"]] == ["workload.scaled"]
    page = _search(audit_db, project_id="pa", limit=2, offset=2)
    assert page["total"] == 3 and len(page["items"]) == 1


def test_cluster_records_are_only_in_the_all_projects_view(audit_db: Any) -> None:
    _store(
        audit_db,
        _event("workload.created", "pa", "u1", "web", 0),
        _event("node.cordoned", None, "admin", "n1", 1),
    )
    assert _search(audit_db, all_projects=True)["total"] == 2
    only_cluster = _search(audit_db, all_projects=True, cluster_only=True)
    assert [item["type"] for item in only_cluster["items"]] == ["node.cordoned"]


def test_no_scope_is_refused(audit_db: Any) -> None:
    with pytest.raises(InvalidAuditFilter) as refused:
        _search(audit_db)
    assert "project_id" in refused.value.details["fields"]


def test_bad_filters_name_the_field() -> None:
    with pytest.raises(InvalidAuditFilter) as refused:
        load_filters({"project_id": "pa", "type": "DROP TABLE"})
    assert "type" in refused.value.details["fields"]
    with pytest.raises(InvalidAuditFilter) as refused:
        load_filters({"project_id": "pa", "since": T0.isoformat(), "until": T0.isoformat()})
    assert "until" in refused.value.details["fields"]


def test_export_batches_walk_every_record_once(audit_db: Any) -> None:
    _store(audit_db, *[_event("workload.updated", "pa", "u1", f"w{i}", i) for i in range(7)])
    seen, after = [], 0
    while True:
        with audit_db.transaction() as session:
            batch = query.export_batch(
                session, load_filters({"project_id": "pa", "limit": 3}), after
            )
        seen += [item["resource"]["name"] for item in batch["items"]]
        if batch["next"] is None:
            break
        after = batch["next"]
    assert sorted(seen) == sorted(f"w{i}" for i in range(7))


def test_a_denial_is_stored_with_outcome_denied_and_clipped_fields(audit_db: Any) -> None:
    envelope = new_event(
        "access.denied",
        actor="anonymous",
        project="p" * 500,
        resource={"kind": "Endpoint", "name": "GET /x"},
        data={"source": "127.0.0.1", "request_id": "r1", "reason": "invalid_token"},
    )
    _store(audit_db, recorder.parse_envelope(envelope))  # type: ignore[arg-type]
    answer = _search(audit_db, all_projects=True, outcome="denied")
    assert answer["total"] == 1
    item = answer["items"][0]
    assert item["source"] == "127.0.0.1" and item["request_id"] == "r1"
    assert len(item["project_id"]) == 64


def test_failed_and_locked_logins_are_denied_outcomes(audit_db: Any) -> None:
    user = {"kind": "User", "name": "alice", "uid": "u1"}
    for kind in ("auth.login_failed", "auth.login_locked", "token.created"):
        envelope = new_event(kind, actor="u1", resource=user, data={"source": "192.0.2.7"})
        _store(audit_db, recorder.parse_envelope(envelope))  # type: ignore[arg-type]

    denied = _search(audit_db, all_projects=True, outcome="denied")["items"]
    assert sorted(item["type"] for item in denied) == ["auth.login_failed", "auth.login_locked"]
    assert {item["source"] for item in denied} == {"192.0.2.7"}
    success = _search(audit_db, all_projects=True, outcome="success")["items"]
    assert [item["type"] for item in success] == ["token.created"]


def test_a_message_that_is_not_an_envelope_is_refused() -> None:
    assert recorder.parse_envelope({"hello": "world"}) is None
    assert recorder.parse_envelope("text") is None
