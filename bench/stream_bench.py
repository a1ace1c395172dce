"""Streams through the bus: a followed log's chunk and a terminal's keystroke round trip.

Both run the real relay code on the real broker; only the cluster's side is a stand-in (a
chunk source, an echoing exec session), so the numbers are the relay's own cost:

- `log follow: chunk to gateway`: a chunk handed to `log_relay.relay` until the gateway's
  `LogSubscription` yields it; baseline: one kombu publish → consume on the same broker.
- `terminal: keystroke round trip`: `TerminalSubscription.send_input` → workload `Channel` →
  echo → output queue → the gateway side; baseline: two publish → consume hops. The echo
  waits for output the way ExecStream does (up to the relay's 50 ms poll); typing answered by
  output keeps the relay in its input wait, so the poll costs only when a silent process is
  typed at.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import eventlet
from eventlet.queue import LightQueue
from kombu import Connection, Consumer, Exchange, Producer, Queue

from bench.stats import latency_row
from gateway.log_stream import LogSubscription
from gateway.terminal import TerminalSubscription
from services.workload.log_relay import AmqpSink, relay
from services.workload.terminal import Channel, Transcript, relay_session

SAMPLES = 200


class _FedLog:
    def __init__(self) -> None:
        self.feed: LightQueue = LightQueue()

    def chunks(self) -> Iterator[bytes]:
        while True:
            yield self.feed.get()

    def close(self) -> None:
        pass


class _Echo:
    def __init__(self) -> None:
        self.pending: list[str] = []

    def read(self, timeout: float) -> str:
        if not self.pending:  # as ExecStream: wait up to `timeout` for output
            eventlet.sleep(timeout)
        text, self.pending = "".join(self.pending), []
        return text

    def write(self, data: str) -> None:
        self.pending.append(data)

    def is_open(self) -> bool:
        return True

    def exit_code(self) -> int | None:
        return None

    def close(self) -> None:
        pass


def _log_chunks(amqp_uri: str) -> list[float]:
    subscription = LogSubscription(amqp_uri)
    sink, log = AmqpSink(amqp_uri, subscription.queue), _FedLog()
    worker = eventlet.spawn(relay, log, sink, lambda: False, 600)
    received = subscription.chunks(600)
    samples = []
    for i in range(SAMPLES):
        started = time.perf_counter()
        log.feed.put(f"line {i}\n".encode())
        next(received)
        samples.append(time.perf_counter() - started)
    received.close()
    worker.kill()
    sink.close()
    return samples


def _terminal_round_trips(amqp_uri: str) -> list[float]:
    gateway_side = TerminalSubscription(amqp_uri)
    channel = Channel(amqp_uri, gateway_side.queue)
    transcript = Transcript(lambda chunk, offset: None)  # the audit RPC is not measured here
    worker = eventlet.spawn(relay_session, _Echo(), channel, transcript, 600)
    samples = []
    for i in range(SAMPLES):
        started = time.perf_counter()
        gateway_side.send_input(f"k{i}")
        while not gateway_side.next_messages(1.0):
            pass
        samples.append(time.perf_counter() - started)
    worker.kill()
    channel.close()
    gateway_side.close()
    return samples


def _plain_hops(amqp_uri: str, hops: int) -> list[float]:
    name = f"bench.plain.{uuid.uuid4().hex}"
    received: list[Any] = []
    with Connection(amqp_uri) as consuming, Connection(amqp_uri) as publishing:
        queue = Queue(name, durable=False, auto_delete=True)
        consumer = Consumer(
            consuming.channel(), [queue], callbacks=[lambda b, m: received.append(b)], no_ack=True
        )
        consumer.consume()
        producer = Producer(publishing.channel(), exchange=Exchange(""), serializer="json")
        samples = []
        for i in range(SAMPLES):
            started = time.perf_counter()
            for _ in range(hops):
                producer.publish({"data": i}, routing_key=name)
                while not received:
                    consuming.drain_events(timeout=5)
                received.clear()
            samples.append(time.perf_counter() - started)
        consumer.cancel()
    return samples


def run(amqp_uri: str) -> list[dict[str, Any]]:
    return latency_row(
        "log follow: chunk to gateway",
        _log_chunks(amqp_uri),
        _plain_hops(amqp_uri, 1),
        "one publish -> consume",
    ) + latency_row(
        "terminal: keystroke round trip",
        _terminal_round_trips(amqp_uri),
        _plain_hops(amqp_uri, 2),
        "two publish -> consume hops",
    )
