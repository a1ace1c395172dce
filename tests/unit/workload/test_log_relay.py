"""The log relay's ends (services/workload/log_relay.py).

Faked: the cluster's followed log (`ScriptedLog`, chunks with pauses) and the AMQP sink
(`RecordingSink`, a list and an `alive` switch); the relay loop and its timing are real.
tests/interface/workload/test_log_stream.py runs the same loop over the real broker.
"""

from __future__ import annotations

from collections.abc import Iterator

import eventlet
import pytest

from services.workload.log_relay import check_queue_name, max_seconds_setting, relay
from shared.errors import ValidationFailed


class ScriptedLog:
    """Yields its chunks (a float is a pause), then stays open unless `ends`."""

    def __init__(self, script: list[bytes | float], ends: bool = False, breaks: bool = False):
        self.script, self.ends, self.breaks, self.closed = script, ends, breaks, False

    def chunks(self) -> Iterator[bytes]:
        for step in self.script:
            if isinstance(step, float):
                eventlet.sleep(step)
            else:
                yield step
        if self.breaks:
            raise OSError("connection reset")
        if not self.ends:
            eventlet.sleep(3600)

    def close(self) -> None:
        self.closed = True


class RecordingSink:
    def __init__(self, alive_checks: int = 10_000) -> None:
        self.sent: list[bytes] = []
        self.alive_checks = alive_checks

    def send(self, chunk: bytes) -> None:
        self.sent.append(chunk)

    def alive(self) -> bool:
        self.alive_checks -= 1
        return self.alive_checks >= 0


def test_copies_every_chunk_until_the_stream_ends() -> None:
    log, sink = ScriptedLog([b"a\n", 0.05, b"b\n", b"c\n"], ends=True), RecordingSink()
    assert relay(log, sink, lambda: False, max_seconds=5, check_every=0.05) == "stream_ended"
    assert sink.sent == [b"a\n", b"b\n", b"c\n"]
    assert log.closed


def test_ends_when_the_pod_ends_after_flushing_what_came() -> None:
    ended = {"now": False}
    log, sink = ScriptedLog([b"a\n", 0.1, b"b\n"]), RecordingSink()

    def pod_ended() -> bool:
        return ended["now"]

    eventlet.spawn_after(0.15, lambda: ended.update(now=True))
    assert relay(log, sink, pod_ended, max_seconds=5, check_every=0.05) == "pod_ended"
    assert sink.sent == [b"a\n", b"b\n"]
    assert log.closed


def test_ends_when_the_client_is_gone() -> None:
    log, sink = ScriptedLog([b"a\n"]), RecordingSink(alive_checks=2)
    assert relay(log, sink, lambda: False, max_seconds=5, check_every=0.05) == "client_gone"
    assert sink.sent == [b"a\n"] and log.closed


def test_a_quiet_log_ends_at_the_maximum_duration() -> None:
    log, sink = ScriptedLog([]), RecordingSink()
    started = eventlet.hubs.get_hub().clock()
    assert relay(log, sink, lambda: False, max_seconds=0.3, check_every=0.1) == "max_duration"
    assert 0.25 <= eventlet.hubs.get_hub().clock() - started < 2
    assert sink.sent == [] and log.closed


def test_a_broken_stream_ends_the_relay() -> None:
    log, sink = ScriptedLog([b"a\n"], breaks=True), RecordingSink()
    assert relay(log, sink, lambda: False, max_seconds=5, check_every=0.05) == "stream_broken"
    assert sink.sent == [b"a\n"]


@pytest.mark.parametrize(
    "name", ["rpc-workload", "scs.logs.XYZ", "", None, "scs.logs." + "a" * 33]
)
def test_only_stream_queues_are_published_to(name: object) -> None:
    with pytest.raises(ValidationFailed) as refused:
        check_queue_name(name)
    assert refused.value.details == {"field": "queue"}


def test_the_maximum_duration_comes_from_config_then_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SCS_LOG_FOLLOW_MAX_SECONDS", raising=False)
    assert max_seconds_setting({}) == 300
    monkeypatch.setenv("SCS_LOG_FOLLOW_MAX_SECONDS", "42")
    assert max_seconds_setting({}) == 42
    assert max_seconds_setting({"LOG_FOLLOW_MAX_SECONDS": 7}) == 7
