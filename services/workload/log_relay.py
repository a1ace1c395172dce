"""Followed container logs, relayed to the gateway over a dedicated AMQP queue.

RPC is request/reply, a followed log is a stream: the gateway declares a short-lived queue
(`scs.logs.<32 hex>`, auto-delete, consumed by the HTTP request that asked), calls
`follow_logs` with its name, and this module publishes the log's chunks to it through the
default exchange, then one end message: `{"seq": n, "data": text}` ... `{"end": reason}`.

A relay ends when the stream ends (the kubelet closes it when the container stops), when the
pod ends (checked every few seconds: KWOK keeps a followed log open after its pod is gone),
when the queue is gone (the client disconnected and the gateway closed its consumer), or after
its maximum duration. Neighbours: `cluster.LogFollow` (the stream), `service.follow_logs`.
"""

from __future__ import annotations

import codecs
import logging
import os
import re
import time
from collections.abc import Callable
from typing import Any, Protocol

import eventlet
from amqp.exceptions import NotFound as QueueNotFound
from eventlet.queue import Empty, LightQueue
from kombu import Connection, Exchange, Producer
from nameko.extensions import DependencyProvider

from shared.errors import ValidationFailed

logger = logging.getLogger(__name__)

QUEUE_NAME = re.compile(r"^scs\.logs\.[0-9a-f]{32}$")
DEFAULT_MAX_SECONDS = 300
CHECK_EVERY_SECONDS = 2.0
_END = object()


def queue_exists(connection: Connection, queue: str) -> bool:
    """Whether `queue` exists (a gateway's auto-delete queue goes when its client leaves)."""
    channel = connection.channel()
    try:
        channel.queue_declare(queue=queue, passive=True)
    except QueueNotFound:
        return False
    channel.close()
    return True


class Chunks(Protocol):
    def chunks(self) -> Any: ...

    def close(self) -> None: ...


class Sink(Protocol):
    def send(self, chunk: bytes) -> None: ...

    def alive(self) -> bool: ...


def max_seconds_setting(config: dict[str, Any]) -> int:
    """LOG_FOLLOW_MAX_SECONDS in the service config, else SCS_LOG_FOLLOW_MAX_SECONDS, else 300."""
    raw = config.get("LOG_FOLLOW_MAX_SECONDS") or os.environ.get("SCS_LOG_FOLLOW_MAX_SECONDS")
    return int(raw) if raw else DEFAULT_MAX_SECONDS


def check_queue_name(queue: Any) -> str:
    """Only stream queues: a caller cannot make the relay publish into another queue."""
    if not isinstance(queue, str) or not QUEUE_NAME.match(queue):
        raise ValidationFailed(
            "the stream queue must be named scs.logs.<32 hex digits>", {"field": "queue"}
        )
    return queue


def relay(
    follow: Chunks,
    sink: Sink,
    pod_ended: Callable[[], bool],
    max_seconds: float,
    check_every: float = CHECK_EVERY_SECONDS,
) -> str:
    """Copy chunks from `follow` to `sink` until one of the ends; answers the reason."""
    chunks: LightQueue = LightQueue()
    reader = eventlet.spawn(_read, follow, chunks)
    deadline = time.monotonic() + max_seconds
    next_check = time.monotonic() + check_every
    try:
        while True:
            now = time.monotonic()
            if now >= deadline:
                return "max_duration"
            item = _next(chunks, min(deadline, next_check) - now)
            if item is _END:
                return "stream_ended"
            if isinstance(item, Exception):
                return "stream_broken"
            if item is not None:
                sink.send(item)
            if time.monotonic() >= next_check:
                if not sink.alive():
                    return "client_gone"
                if pod_ended():
                    _flush(chunks, sink)
                    return "pod_ended"
                next_check = time.monotonic() + check_every
    finally:
        reader.kill()
        follow.close()


def _read(follow: Chunks, chunks: LightQueue) -> None:
    try:
        for chunk in follow.chunks():
            chunks.put(chunk)
    except Exception as exc:  # handed to the relay loop, which ends the stream
        chunks.put(exc)
        return
    chunks.put(_END)


def _next(chunks: LightQueue, wait: float) -> Any:
    try:
        return chunks.get(timeout=max(wait, 0.01))
    except Empty:
        return None


def _flush(chunks: LightQueue, sink: Sink) -> None:
    while True:
        try:
            item = chunks.get_nowait()
        except Empty:
            return
        if isinstance(item, bytes):
            sink.send(item)


class AmqpSink:
    """Publishes to one stream queue through the default exchange (its own connection)."""

    def __init__(self, amqp_uri: str, queue: str) -> None:
        self.queue = queue
        self.connection = Connection(amqp_uri)
        self.producer = Producer(
            self.connection.channel(), exchange=Exchange(""), serializer="json"
        )
        self.seq = 0
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def send(self, chunk: bytes) -> None:
        text = self._decoder.decode(chunk)
        if text:
            self.seq += 1
            self.producer.publish({"seq": self.seq, "data": text}, routing_key=self.queue)

    def end(self, reason: str) -> None:
        self.producer.publish({"end": reason, "seq": self.seq}, routing_key=self.queue)

    def alive(self) -> bool:
        """Whether the gateway still consumes: its auto-delete queue exists."""
        return queue_exists(self.connection, self.queue)

    def close(self) -> None:
        self.connection.release()


class LogRelay(DependencyProvider):
    """`self.log_relay` in entrypoints: starts relays in managed greenthreads, one per queue."""

    def setup(self) -> None:
        self.amqp_uri = self.container.config["AMQP_URI"]
        self.max_seconds = max_seconds_setting(self.container.config)
        self.active: set[str] = set()

    def get_dependency(self, worker_ctx: Any) -> LogRelay:
        return self

    def start_relay(
        self, follow: Chunks, queue: str, pod_ended: Callable[[], bool], max_seconds: float
    ) -> bool:
        """False when a relay to this queue already runs (a redelivered call)."""
        if queue in self.active:
            follow.close()
            return False
        try:
            sink = AmqpSink(self.amqp_uri, queue)
        except Exception:
            follow.close()
            raise
        self.active.add(queue)
        self.container.spawn_managed_thread(
            lambda: self._run(follow, sink, pod_ended, max_seconds)
        )
        return True

    def _run(
        self, follow: Chunks, sink: AmqpSink, pod_ended: Callable[[], bool], max_seconds: float
    ) -> None:
        reason = "error"
        try:
            reason = relay(follow, sink, pod_ended, max_seconds)
            if reason != "client_gone":
                sink.end(reason)
        except Exception:  # the stream's end is all the caller sees; keep the reason here
            logger.exception("log relay to %s failed", sink.queue)
        finally:
            logger.info("log stream %s ended (%s, %d chunks)", sink.queue, reason, sink.seq)
            self.active.discard(sink.queue)
            sink.close()
