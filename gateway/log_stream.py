"""A followed container log as a chunked `text/plain` HTTP answer.

The gateway does not talk to the cluster: it declares a short-lived queue of its own
(`scs.logs.<32 hex>`, auto-delete, on a connection of its own), asks the workload service to
relay the log into it (`follow_logs`), and writes each chunk to the client as it arrives. The
answer ends with the relay's end message (pod ended, stream ended, maximum duration), at the
deadline the workload service named (plus a grace period), or when the client goes away:
closing the answer closes the connection, which deletes the queue, which stops the relay.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from kombu import Connection, Consumer, Queue
from nameko.extensions import DependencyProvider
from werkzeug.wrappers import Request, Response

logger = logging.getLogger(__name__)

GRACE_SECONDS = 10
QUEUE_EXPIRES_MS = 60_000  # the broker drops a queue nobody ever consumed


class LogSubscription:
    """The gateway's end of one followed log: a consumed queue and its messages."""

    def __init__(self, amqp_uri: str) -> None:
        self.queue = f"scs.logs.{uuid.uuid4().hex}"
        self.connection = Connection(amqp_uri)
        self.pending: list[dict[str, Any]] = []
        queue = Queue(
            self.queue,
            durable=False,
            auto_delete=True,
            queue_arguments={"x-expires": QUEUE_EXPIRES_MS},
        )
        channel = self.connection.channel()
        queue(channel).declare()
        self.consumer = Consumer(
            channel, queues=[queue], callbacks=[self._on], accept=["json"], no_ack=True
        )
        self.consumer.consume()

    def _on(self, body: dict[str, Any], message: Any) -> None:
        self.pending.append(body)

    def chunks(self, max_seconds: float) -> Iterator[bytes]:
        """The log's text as it comes; closes the subscription however it ends."""
        deadline = time.monotonic() + max_seconds + GRACE_SECONDS
        try:
            while time.monotonic() < deadline:
                if not self.pending:
                    self._wait(min(1.0, deadline - time.monotonic()))
                    continue
                body = self.pending.pop(0)
                if "end" in body:
                    logger.info("log stream %s ended: %s", self.queue, body["end"])
                    return
                yield str(body.get("data", "")).encode()
        finally:
            self.close()

    def _wait(self, timeout: float) -> None:
        try:
            self.connection.drain_events(timeout=max(timeout, 0.01))
        except TimeoutError:
            pass

    def close(self) -> None:
        try:
            self.consumer.cancel()
        finally:
            self.connection.release()


def follow_response(
    amqp_uri: str, start: Callable[[str], dict[str, Any]], request: Request, request_id: str
) -> Response:
    """Subscribe, let `start(queue)` start the relay (its errors propagate), then stream."""
    # eventlet's server gathers 4 KiB before writing a chunk; a log line must go at once
    request.environ["eventlet.minimum_write_chunk_size"] = 1
    subscription = LogSubscription(amqp_uri)
    try:
        answer = start(subscription.queue)
    except BaseException:
        subscription.close()
        raise
    response = Response(
        subscription.chunks(float(answer["max_seconds"])),
        mimetype="text/plain",
        direct_passthrough=True,
    )
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Request-Id"] = request_id
    return response


class LogStreams(DependencyProvider):
    """`self.log_streams` in the gateway: the broker address followed logs are relayed on."""

    def setup(self) -> None:
        self.amqp_uri = self.container.config["AMQP_URI"]

    def get_dependency(self, worker_ctx: Any) -> str:
        return str(self.amqp_uri)
