"""The followed-log relay over the real broker: workload side (AmqpSink + relay) to gateway
side (LogSubscription), in a fresh vhost.

Faked: only the cluster's followed log (a scripted chunk source); RabbitMQ is real. The whole
path through the gateway and the local cluster is tests/e2e/workload/test_log_follow.py.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import eventlet
import pytest

from gateway.log_stream import LogSubscription
from services.workload.log_relay import AmqpSink, relay
from tests.interface.gateway.conftest import amqp_vhost  # noqa: F401

pytestmark = pytest.mark.interface


class ScriptedLog:
    def __init__(self, chunks: list[bytes]) -> None:
        self.script, self.closed = chunks, False

    def chunks(self) -> Iterator[bytes]:
        yield from self.script
        eventlet.sleep(3600)  # a followed log stays open

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def amqp_uri(amqp_vhost: str) -> str:  # noqa: F811
    return f"pyamqp://guest:guest@127.0.0.1:5672/{amqp_vhost}"


def _relay_in_background(log: ScriptedLog, sink: AmqpSink, **kwargs: float) -> dict:
    outcome: dict = {}

    def run() -> None:
        outcome["reason"] = relay(log, sink, lambda: False, **kwargs)
        if outcome["reason"] != "client_gone":
            sink.end(outcome["reason"])

    outcome["thread"] = eventlet.spawn(run)
    return outcome


def test_chunks_arrive_in_order_and_the_end_closes_the_answer(amqp_uri: str) -> None:
    subscription = LogSubscription(amqp_uri)
    sink = AmqpSink(amqp_uri, subscription.queue)
    # "é" split across two chunks: the text survives the cut
    script = [b"one\n", b"two \xc3", b"\xa9\n"] + [f"line {i}\n".encode() for i in range(200)]
    outcome = _relay_in_background(ScriptedLog(script), sink, max_seconds=1, check_every=0.2)

    started = time.monotonic()
    text = b"".join(subscription.chunks(max_seconds=5)).decode()
    outcome["thread"].wait()
    sink.close()

    assert text.startswith("one\ntwo é\nline 0\n") and text.endswith("line 199\n")
    assert outcome["reason"] == "max_duration"
    assert time.monotonic() - started < 5


def test_a_closed_subscription_stops_the_relay(amqp_uri: str) -> None:
    subscription = LogSubscription(amqp_uri)
    sink = AmqpSink(amqp_uri, subscription.queue)
    log = ScriptedLog([b"hello\n"])
    outcome = _relay_in_background(log, sink, max_seconds=30, check_every=0.1)

    first = next(subscription.chunks(max_seconds=30))
    assert first == b"hello\n"
    subscription.close()  # the client went away: the gateway closes its answer

    outcome["thread"].wait()
    sink.close()
    assert outcome["reason"] == "client_gone" and log.closed
