"""The relay is woken by the commit that recorded an event (shared.events.on_outbox_commit),
not by a rolled-back one. Real: SQLAlchemy sessions on an in-memory SQLite database and the
relay's Doorbell (an eventlet queue); no relay or broker runs here."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import DeclarativeBase, Session

from shared.events import OutboxMixin, new_event, on_outbox_commit, record_event
from shared.outbox import Doorbell


class Base(DeclarativeBase):
    pass


class WakeOutbox(OutboxMixin, Base):
    pass


@pytest.fixture
def engine() -> Iterator[object]:
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def rings() -> Iterator[list[str]]:
    heard: list[str] = []
    remove = on_outbox_commit(WakeOutbox, lambda: heard.append("ring"))
    yield heard
    remove()


def _event() -> dict:
    return new_event("thing.done", actor="t", resource={"kind": "Thing", "name": "a"})


def test_a_commit_with_an_event_wakes_the_relay_once(engine: object, rings: list[str]) -> None:
    with Session(engine) as session:  # type: ignore[call-overload]
        record_event(session, WakeOutbox, _event())
        record_event(session, WakeOutbox, _event())
        assert rings == []  # not before the commit: the relay would find nothing yet
        session.commit()
    assert rings == ["ring"]


def test_a_rollback_or_a_commit_without_events_does_not(engine: object, rings: list[str]) -> None:
    with Session(engine) as session:  # type: ignore[call-overload]
        record_event(session, WakeOutbox, _event())
        session.rollback()
        session.commit()  # the next transaction of the same session wrote nothing
    assert rings == []


def test_a_removed_listener_is_not_called(engine: object) -> None:
    heard: list[str] = []
    remove = on_outbox_commit(WakeOutbox, lambda: heard.append("ring"))
    remove()
    with Session(engine) as session:  # type: ignore[call-overload]
        record_event(session, WakeOutbox, _event())
        session.commit()
    assert heard == []


def test_a_failing_listener_never_fails_the_commit(engine: object) -> None:
    def broken() -> None:
        raise RuntimeError("relay gone")

    remove = on_outbox_commit(WakeOutbox, broken)
    try:
        with Session(engine) as session:  # type: ignore[call-overload]
            record_event(session, WakeOutbox, _event())
            session.commit()
            assert session.query(WakeOutbox).count() == 1
    finally:
        remove()


def test_the_doorbell_keeps_rings_as_one_and_times_out() -> None:
    bell = Doorbell()
    bell.ring()
    bell.ring()
    assert bell.wait(0.01) is True
    assert bell.wait(0.01) is False  # the second ring was folded into the first
