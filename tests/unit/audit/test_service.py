"""AuditService entrypoints through nameko's worker_factory.

Real: the SQLite database (the `db` dependency is given a real Database). Faked in one test:
a database whose transaction fails, to show the handler gives the message back (raises, so
nameko requeues it) instead of dropping it; the pause before requeueing is patched to zero.
"""

from typing import Any
from unittest import mock

import pytest
from nameko.testing.services import worker_factory
from sqlalchemy.exc import OperationalError

from services.audit import service as audit_service
from services.audit.service import AuditService
from shared.events import new_event


def _event() -> dict[str, Any]:
    return new_event(
        "workload.created",
        actor="u1",
        project="pa",
        resource={"kind": "Deployment", "namespace": "ns", "name": "web"},
    )


def test_an_event_is_stored_and_searchable(audit_db: Any) -> None:
    service = worker_factory(AuditService, db=audit_db)
    event = _event()
    service.handle_event(event)
    service.handle_event(event)
    answer = service.search({"project_id": "pa"})
    assert answer["total"] == 1 and answer["items"][0]["event_id"] == event["id"]
    assert answer["items"][0]["deliveries"] == 2


def test_a_message_that_is_not_an_event_is_dropped(audit_db: Any) -> None:
    service = worker_factory(AuditService, db=audit_db)
    service.handle_event({"type": "nonsense"})
    assert service.search({"all_projects": True})["total"] == 0


def test_a_database_failure_requeues_the_message() -> None:
    broken = mock.Mock()
    broken.transaction.side_effect = OperationalError("BEGIN", {}, Exception("db down"))
    service = worker_factory(AuditService, db=broken)
    with mock.patch.object(audit_service, "RETRY_PAUSE_SECONDS", 0):
        with pytest.raises(OperationalError):
            service.handle_event(_event())
