"""The terminal: an exec session relayed between the gateway's WebSocket and the cluster.

Same shape as followed logs (log_relay.py): the gateway declares `scs.term.<32 hex>` (output,
consumed by the gateway) and `scs.term.<32 hex>.in` (input, consumed here), then calls
`open_terminal`. This module opens the exec session, then one managed greenthread relays:
input messages `{"data": text}` to the container's stdin, the container's output to the
output queue `{"data": text}`, and every byte both ways to the audit service's transcript
(`store_transcript`, with offsets, so a retried call stores nothing twice). It ends with
`{"end": reason, "exit_code": n}` when the process exits, the client leaves (the output queue
is gone), the transcript cannot be stored (no unaudited terminal), or at the maximum duration.
"""

from __future__ import annotations

import logging
import os
import re
import shlex
import time
import uuid
from collections.abc import Callable
from typing import Any, Protocol

from kombu import Connection, Consumer, Exchange, Producer, Queue
from nameko.exceptions import UnknownService
from nameko.extensions import DependencyProvider
from nameko.standalone.rpc import ClusterRpcProxy

from services.workload.exceptions import OwnerUnavailable
from services.workload.log_relay import queue_exists
from shared.errors import ValidationFailed

logger = logging.getLogger(__name__)

QUEUE_NAME = re.compile(r"^scs\.term\.[0-9a-f]{32}$")
DEFAULT_MAX_SECONDS = 3600
CHECK_EVERY_SECONDS = 2.0
POLL_SECONDS = 0.05
MAX_ARGS, MAX_ARG_CHARS = 32, 1024
TRANSCRIPT_TIMEOUT_SECONDS = 10
TRANSCRIPT_CHUNK_CHARS = 65_536  # the audit service takes at most 262,144 per call


class Exec(Protocol):
    def read(self, timeout: float) -> str: ...

    def write(self, data: str) -> None: ...

    def is_open(self) -> bool: ...

    def exit_code(self) -> int | None: ...

    def close(self) -> None: ...


def parse_command(command: Any) -> list[str]:
    """`command` as one shell-like string ("sh -c 'ls /'"); no shell runs it."""
    try:
        argv = shlex.split(command) if isinstance(command, str) else []
    except ValueError as exc:
        raise ValidationFailed(f"command: {exc}", {"field": "command"}) from exc
    if not argv or len(argv) > MAX_ARGS or any(len(a) > MAX_ARG_CHARS for a in argv):
        raise ValidationFailed(
            f"command needs 1 to {MAX_ARGS} arguments of at most {MAX_ARG_CHARS} characters",
            {"field": "command"},
        )
    return argv


def require_audit(audit: Any) -> None:
    """No unaudited terminal: refuse before any exec session when the audit service is away."""
    try:
        audit.health()
    except UnknownService as exc:
        raise OwnerUnavailable(
            "the audit service, which keeps terminal transcripts, is not running",
            {"owner": "audit"},
        ) from exc


def check_queue_name(queue: Any) -> str:
    if not isinstance(queue, str) or not QUEUE_NAME.match(queue):
        raise ValidationFailed(
            "the terminal queue must be named scs.term.<32 hex digits>", {"field": "queue"}
        )
    return queue


def max_seconds_setting(config: dict[str, Any]) -> int:
    raw = config.get("TERMINAL_MAX_SECONDS") or os.environ.get("SCS_TERMINAL_MAX_SECONDS")
    return int(raw) if raw else DEFAULT_MAX_SECONDS


class Transcript:
    """Appends both directions, in the order relayed, to the audit service's transcript."""

    def __init__(self, store: Callable[[str, int], Any]) -> None:
        self.store, self.offset = store, 0

    def add(self, text: str) -> None:
        for start in range(0, len(text), TRANSCRIPT_CHUNK_CHARS):
            piece = text[start : start + TRANSCRIPT_CHUNK_CHARS]
            self.store(piece, self.offset)
            self.offset += len(piece.encode())


class Channel:
    """The workload's end of the queues: publishes output, receives input."""

    def __init__(self, amqp_uri: str, queue: str) -> None:
        self.queue = queue
        self.connection = Connection(amqp_uri)
        channel = self.connection.channel()
        self.producer = Producer(channel, exchange=Exchange(""), serializer="json")
        self.inbox: list[str] = []
        inbound = Queue(f"{queue}.in", durable=False, auto_delete=True)
        inbound(channel).declare()
        self.consumer = Consumer(
            channel, [inbound], callbacks=[self._on], accept=["json"], no_ack=True
        )
        self.consumer.consume()

    def _on(self, body: dict[str, Any], message: Any) -> None:
        if isinstance(body, dict) and isinstance(body.get("data"), str):
            self.inbox.append(body["data"])

    def receive(self, timeout: float) -> list[str]:
        try:
            self.connection.drain_events(timeout=timeout)
        except TimeoutError:
            pass
        received, self.inbox = self.inbox, []
        return received

    def send(self, text: str) -> None:
        self.producer.publish({"data": text}, routing_key=self.queue)

    def end(self, reason: str, exit_code: int | None) -> None:
        self.producer.publish({"end": reason, "exit_code": exit_code}, routing_key=self.queue)

    def alive(self) -> bool:
        return queue_exists(self.connection, self.queue)

    def close(self) -> None:
        self.connection.release()


def relay_session(
    session: Exec,
    channel: Any,
    transcript: Transcript,
    max_seconds: float,
    check_every: float = CHECK_EVERY_SECONDS,
) -> str:
    """Relay both ways until one of the ends; answers the reason."""
    deadline = time.monotonic() + max_seconds
    next_check = time.monotonic() + check_every
    while time.monotonic() < deadline:
        for data in channel.receive(POLL_SECONDS):
            transcript.add(data)
            session.write(data)
        output = session.read(POLL_SECONDS)
        if output:
            transcript.add(output)
            channel.send(output)
        if not session.is_open():
            return "exited"
        if time.monotonic() >= next_check:
            if not channel.alive():
                return "client_gone"
            next_check = time.monotonic() + check_every
    return "max_duration"


class TerminalRelay(DependencyProvider):
    """`self.terminals` in entrypoints: runs each session in a managed greenthread."""

    def setup(self) -> None:
        self.config = dict(self.container.config)
        self.max_seconds = max_seconds_setting(self.config)
        self.active: dict[str, str] = {}  # queue -> session id

    def get_dependency(self, worker_ctx: Any) -> TerminalRelay:
        return self

    def start_session(self, session: Exec, queue: str, project_id: str, pod: str) -> str:
        """Open the input side now (so no keystroke is lost), relay in the background.

        A redelivered call for a queue this process already serves keeps the first session.
        """
        if queue in self.active:
            session.close()
            return self.active[queue]
        try:
            channel = Channel(self.config["AMQP_URI"], queue)
        except Exception:
            session.close()
            raise
        session_id = uuid.uuid4().hex
        self.active[queue] = session_id
        self.container.spawn_managed_thread(
            lambda: self._run(session, channel, project_id, pod, session_id)
        )
        return session_id

    def _run(self, session: Exec, channel: Channel, project_id: str, pod: str, sid: str) -> None:
        reason, code = "error", None
        try:
            with ClusterRpcProxy(self.config, timeout=TRANSCRIPT_TIMEOUT_SECONDS) as rpc:

                def store(chunk: str, offset: int) -> Any:
                    return rpc.audit.store_transcript(project_id, pod, sid, chunk, offset=offset)

                reason = relay_session(session, channel, Transcript(store), self.max_seconds)
            code = session.exit_code() if reason == "exited" else None
        except Exception:  # e.g. the transcript could not be stored: end the session
            logger.exception("terminal session %s of pod %s ended by an error", sid, pod)
        finally:
            session.close()
            if reason != "client_gone":
                _end_quietly(channel, reason, code)
            channel.close()
            self.active.pop(channel.queue, None)
            logger.info("terminal session %s on %s ended (%s, exit %s)", sid, pod, reason, code)


def _end_quietly(channel: Channel, reason: str, code: int | None) -> None:
    try:
        channel.end(reason, code)
    except Exception:  # the gateway may be gone already
        logger.warning("could not tell the gateway that terminal %s ended", channel.queue)
