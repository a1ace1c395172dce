"""nameko RPC round trip versus a raw kombu request/reply on the same broker.

Both run sequentially from one caller on one connection each, so the ratio shows what nameko's
RPC layer costs over the bare AMQP pattern it implements.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import eventlet
from kombu import Connection, Consumer, Exchange, Producer, Queue
from nameko.rpc import rpc
from nameko.runners import ServiceRunner
from nameko.standalone.rpc import ServiceRpcProxy

from bench.stats import latency_row

CALLS = 500


class EchoService:
    name = "bench_echo"

    @rpc
    def echo(self, value: Any) -> Any:
        return value


def _nameko_samples(amqp_uri: str) -> list[float]:
    runner = ServiceRunner({"AMQP_URI": amqp_uri})
    runner.add_service(EchoService)
    runner.start()
    try:
        with ServiceRpcProxy("bench_echo", {"AMQP_URI": amqp_uri}) as proxy:
            proxy.echo("warm-up")
            samples = []
            for i in range(CALLS):
                started = time.perf_counter()
                proxy.echo({"i": i})
                samples.append(time.perf_counter() - started)
        return samples
    finally:
        runner.stop()


def _kombu_samples(amqp_uri: str) -> list[float]:
    exchange = Exchange("bench-raw", type="direct", durable=False, auto_delete=True)
    request_queue = Queue(
        "bench-raw-requests", exchange, routing_key="echo", auto_delete=True, durable=False
    )
    stop = eventlet.event.Event()

    def responder() -> None:
        with Connection(amqp_uri) as conn, conn.channel() as channel:
            producer = Producer(channel)

            def reply(body: Any, message: Any) -> None:
                producer.publish(
                    body,
                    routing_key=message.properties["reply_to"],
                    correlation_id=message.properties["correlation_id"],
                    serializer="json",
                )
                message.ack()

            with Consumer(channel, [request_queue], callbacks=[reply]):
                while not stop.ready():
                    try:
                        conn.drain_events(timeout=0.2)
                    except TimeoutError:
                        continue

    worker = eventlet.spawn(responder)
    eventlet.sleep(0.5)
    samples: list[float] = []
    try:
        with Connection(amqp_uri) as conn, conn.channel() as channel:
            reply_queue = Queue(
                f"bench-reply-{uuid.uuid4().hex}", exclusive=True, auto_delete=True, durable=False
            )
            reply_queue(channel).declare()
            producer = Producer(channel, exchange=exchange)
            answers: dict[str, Any] = {}

            def on_reply(body: Any, message: Any) -> None:
                answers[message.properties["correlation_id"]] = body
                message.ack()

            with Consumer(channel, [reply_queue], callbacks=[on_reply]):
                for i in range(CALLS + 1):
                    correlation = uuid.uuid4().hex
                    started = time.perf_counter()
                    producer.publish(
                        {"i": i},
                        routing_key="echo",
                        reply_to=reply_queue.name,
                        correlation_id=correlation,
                        serializer="json",
                    )
                    while correlation not in answers:
                        conn.drain_events(timeout=10)
                    if i:  # the first call is the warm-up
                        samples.append(time.perf_counter() - started)
    finally:
        stop.send(True)
        worker.wait()
    return samples


def run(amqp_uri: str) -> list[dict[str, Any]]:
    raw = _kombu_samples(amqp_uri)
    nameko = _nameko_samples(amqp_uri)
    return latency_row("RPC round trip (nameko)", nameko, raw, "raw kombu request/reply")
