"""The event envelope, the outbox row and typed errors across nameko's serialisation.

Nothing is faked: the outbox is a real SQLite database in tmp_path; serialisation uses
nameko's own serialize/deserialize, which is what crosses the broker.
"""

import uuid

import pytest
from marshmallow import ValidationError
from nameko.exceptions import deserialize, serialize
from sqlalchemy import select
from sqlalchemy.orm import DeclarativeBase

from shared.db import Database
from shared.errors import Forbidden, NotFound, RemoteScsError, ScsError, ValidationFailed
from shared.events import EventEnvelopeSchema, OutboxMixin, new_event, record_event


class Base(DeclarativeBase):
    pass


class Outbox(OutboxMixin, Base):
    pass


def _event(**overrides):
    fields = {
        "actor": "u1",
        "project": "p1",
        "resource": {"kind": "Deployment", "namespace": "ns", "name": "web", "uid": None},
        "data": {"replicas": 3},
    }
    fields.update(overrides)
    return new_event("workload.created", **fields)


def test_envelope_has_every_field():
    event = _event()
    assert set(event) == {
        "id",
        "type",
        "occurred_at",
        "actor",
        "project",
        "resource",
        "data",
        "schema_version",
    }
    uuid.UUID(event["id"])
    assert event["occurred_at"].endswith("+00:00")
    assert event["schema_version"] == 1


@pytest.mark.parametrize("bad_type", ["Workload.Created", "workload", "workload.", ""])
def test_envelope_refuses_bad_types(bad_type):
    with pytest.raises(ValidationError):
        new_event(bad_type, actor="u", resource={"kind": "K", "name": "n"})


def test_envelope_refuses_unknown_fields():
    event = _event()
    event["surprise"] = 1
    with pytest.raises(ValidationError):
        EventEnvelopeSchema().load(event)


def test_outbox_row_is_written_in_the_callers_transaction(sqlite_url):
    database = Database(sqlite_url)
    Base.metadata.create_all(database.engine)
    event = _event()

    with pytest.raises(RuntimeError), database.transaction() as session:
        record_event(session, Outbox, event)
        raise RuntimeError("the state change failed")
    with database.transaction() as session:
        assert session.scalars(select(Outbox)).all() == []

    with database.transaction() as session:
        record_event(session, Outbox, event)
    with database.transaction() as session:
        row = session.scalars(select(Outbox)).one()
        assert row.event_id == event["id"]
        assert row.payload == event
        assert row.published_at is None


@pytest.mark.parametrize("error_type", [ValidationFailed, Forbidden, NotFound, ScsError])
def test_errors_cross_rpc_typed(error_type):
    original = error_type("nope", {"field": ["bad"]})
    received = deserialize(serialize(original))
    assert type(received) is error_type
    assert received.message == "nope"
    assert received.details == {"field": ["bad"]}
    assert received.to_dict() == {
        "code": error_type.code,
        "message": "nope",
        "details": {"field": ["bad"]},
    }


def test_error_codes_and_statuses_are_stable():
    assert (ValidationFailed.code, ValidationFailed.http_status) == ("validation_failed", 400)
    assert (Forbidden.code, Forbidden.http_status) == ("forbidden", 403)
    assert (NotFound.code, NotFound.http_status) == ("not_found", 404)


def test_details_keep_their_json_types_across_rpc():
    original = ValidationFailed("bad", {"limit": 15000, "missing": None, "nested": {"n": 1.5}})
    received = deserialize(serialize(original))
    assert received.details == {"limit": 15000, "missing": None, "nested": {"n": 1.5}}


def test_an_unknown_service_error_arrives_with_its_code_and_status():
    # A process that never imported the concrete class (the gateway) still gets code and status.
    payload = serialize(Forbidden("no entry", {"area": "nodes"}))
    payload["exc_path"] = "services.elsewhere.exceptions.NoEntry"
    payload["exc_type"] = "NoEntry"
    received = deserialize(payload)
    assert isinstance(received, RemoteScsError)
    assert (received.code, received.http_status) == ("forbidden", 403)
    assert received.details == {"area": "nodes"}
    assert received.message == "no entry"


def test_errors_outside_the_suite_stay_remote_errors():
    payload = serialize(KeyError("x"))
    received = deserialize(payload)
    assert type(received).__name__ == "RemoteError"
