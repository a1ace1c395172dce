"""The terminal's WebSocket: the client's side of an exec session relayed by the workload service.

The route (gateway/routes/workloads.py) authenticates and authorises the upgrade request like
any other (workloads.terminal), declares the session's output queue `scs.term.<32 hex>` here,
and asks the workload service to open the exec session (`open_terminal`), which consumes
`<queue>.in`. The answer is then a WebSocket. Its first text frame is JSON naming the session
(`{"session_id", "command"}`: the transcript's id in the audit service); after it, text
frames from the client go to the input queue and output goes to the client as text frames;
the workload service's end message closes the WebSocket (1000, "exited <code>" or the
reason). When the client closes
first, the output queue goes with the gateway's connection and the workload service ends the
session. Neighbours: services/workload/terminal.py (the relay), the audit service (transcript).
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

import eventlet
from eventlet.websocket import WebSocketWSGI
from kombu import Connection, Consumer, Exchange, Producer, Queue
from werkzeug.wrappers import Request, Response

from shared.errors import ValidationFailed

logger = logging.getLogger(__name__)

TERMINAL_PROTOCOL = "terminal.scs.io"

GRACE_SECONDS = 10
QUEUE_EXPIRES_MS = 60_000


def require_upgrade(request: Request) -> None:
    """Only a WebSocket handshake may open a terminal (400 before any session starts)."""
    connection = {p.strip().lower() for p in request.headers.get("Connection", "").split(",")}
    if "upgrade" not in connection or request.headers.get("Upgrade", "").lower() != "websocket":
        raise ValidationFailed(
            "the terminal is a WebSocket: send Connection: Upgrade, Upgrade: websocket",
            {"header": "Upgrade"},
        )


class TerminalSubscription:
    """The gateway's queues of one session: output consumed, input published to."""

    def __init__(self, amqp_uri: str) -> None:
        self.queue = f"scs.term.{uuid.uuid4().hex}"
        self.pending: list[dict[str, Any]] = []
        self.inbound = Connection(amqp_uri)
        queue = Queue(
            self.queue,
            durable=False,
            auto_delete=True,
            queue_arguments={"x-expires": QUEUE_EXPIRES_MS},
        )
        channel = self.inbound.channel()
        queue(channel).declare()
        self.consumer = Consumer(
            channel, [queue], callbacks=[self._on], accept=["json"], no_ack=True
        )
        self.consumer.consume()
        self.outbound = Connection(amqp_uri)
        self.producer = Producer(self.outbound.channel(), exchange=Exchange(""))

    def _on(self, body: dict[str, Any], message: Any) -> None:
        self.pending.append(body)

    def next_messages(self, timeout: float) -> list[dict[str, Any]]:
        if not self.pending:
            try:
                self.inbound.drain_events(timeout=timeout)
            except TimeoutError:
                pass
        taken, self.pending = self.pending, []
        return taken

    def send_input(self, text: str) -> None:
        self.producer.publish({"data": text}, routing_key=f"{self.queue}.in", serializer="json")

    def close(self) -> None:
        for connection in (self.inbound, self.outbound):
            try:
                connection.release()
            except Exception:  # closing what the broker may have closed already
                logger.debug("closing a terminal connection failed", exc_info=True)


def _pump_input(ws: Any, subscription: TerminalSubscription) -> None:
    while True:
        message = ws.wait()
        if message is None:  # the client closed
            return
        text = message if isinstance(message, str) else message.decode("utf-8", "replace")
        subscription.send_input(text)


def run_socket(ws: Any, subscription: TerminalSubscription, max_seconds: float) -> str:
    """Relay until the session's end message, the client's close, or the deadline."""
    reader = eventlet.spawn(_pump_input, ws, subscription)
    deadline = time.monotonic() + max_seconds + GRACE_SECONDS
    try:
        while time.monotonic() < deadline and not reader.dead:
            for body in subscription.next_messages(0.2):
                if "end" in body:
                    reason = _end_reason(body)
                    ws.close(close_data=(1000, reason))
                    return reason
                ws.send(str(body.get("data", "")))
        return "client_closed" if reader.dead else "max_duration"
    finally:
        reader.kill()
        subscription.close()


def _end_reason(body: dict[str, Any]) -> str:
    if body.get("end") == "exited":
        return f"exited {body.get('exit_code')}"
    return str(body["end"])


class WebSocketResponse(Response):
    """A werkzeug answer that upgrades the connection and runs `handler(ws)`."""

    def __init__(self, handler: Callable[[Any], None]) -> None:
        super().__init__(status=101)
        self._wsgi = WebSocketWSGI(handler)
        # answered when offered (a browser sends it with the token subprotocol, gateway/api.py)
        self._wsgi.supported_protocols = [TERMINAL_PROTOCOL]

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self._wsgi(environ, start_response)


def terminal_response(
    amqp_uri: str, open_session: Callable[[str], dict[str, Any]], request_id: str
) -> Response:
    """Declare the queues, let `open_session(queue)` start the exec (errors propagate)."""
    subscription = TerminalSubscription(amqp_uri)
    try:
        answer = open_session(subscription.queue)
    except BaseException:
        subscription.close()
        raise
    max_seconds = float(answer["max_seconds"])

    def handler(ws: Any) -> None:
        ws.send(json.dumps({"session_id": answer["session_id"], "command": answer["command"]}))
        reason = run_socket(ws, subscription, max_seconds)
        logger.info("terminal %s closed (%s) [%s]", answer["session_id"], reason, request_id)

    return WebSocketResponse(handler)
