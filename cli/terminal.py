"""`scs exec`: a command in a container over the gateway's terminal WebSocket.

The gateway (GET .../pods/<pod>/exec?namespace=&command=&container=, an upgrade) answers a
first text frame `{"session_id", "command"}`, then the command's output as text frames; text
sent by the client is the command's input; the close frame's reason is `exited <code>` or why
the session ended. The only module of the CLI that imports `websocket` (websocket-client).
"""

from __future__ import annotations

import json
import logging
import shlex
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

import websocket

from cli import names
from cli.client import Gateway, api_path
from cli.context import Context
from cli.errors import EXIT_NOT_LOGGED_IN, EXIT_UNAVAILABLE, CliError, from_answer

logger = logging.getLogger(__name__)

TIMEOUT_S = 30


def session_url(
    server: str,
    project: str,
    namespace: str,
    pod: str,
    command_line: list[str],
    container: str | None = None,
) -> str:
    # one shell-like string: the workload service splits it (no shell runs it)
    query = {"namespace": namespace, "command": shlex.join(command_line)}
    if container:
        query["container"] = container
    base = server.replace("http://", "ws://", 1).replace("https://", "wss://", 1)
    path = api_path("projects", project, "pods", pod, "exec")
    return f"{base}/api/v1{path}?{urlencode(query)}"


def connect(gateway: Gateway, url: str) -> Any:
    """The terminal WebSocket, opened; a refusal becomes the CliError of its answer."""
    if not gateway.token:
        raise CliError(EXIT_NOT_LOGGED_IN, "not_logged_in", "not logged in: run `scs login` first")
    header = [f"Authorization: Bearer {gateway.token}"]
    try:
        return websocket.create_connection(url, header=header, timeout=TIMEOUT_S)
    except websocket.WebSocketBadStatusException as exc:
        body: Any = exc.resp_body or b""
        try:
            body = json.loads(body)
        except ValueError:
            body = body.decode(errors="replace") if isinstance(body, bytes) else str(body)
        raise from_answer(int(exc.status_code), body) from exc
    except (OSError, websocket.WebSocketException) as exc:
        raise CliError(
            EXIT_UNAVAILABLE, "unreachable", f"cannot open a terminal at {url.split('?')[0]}"
        ) from exc


def exit_code_of(reason: str) -> int:
    """`exited 3` is 3; any other end of the session (max duration, pod gone) is 5."""
    word, _, number = reason.partition(" ")
    if word == "exited" and number.strip().lstrip("-").isdigit():
        return int(number)
    return EXIT_UNAVAILABLE


@contextmanager
def _raw_terminal(wanted: bool) -> Iterator[None]:
    """With -t on a terminal, keys go to the remote side as typed (no local echo or editing)."""
    if not (wanted and sys.stdin.isatty()):
        yield
        return
    import termios
    import tty

    saved = termios.tcgetattr(sys.stdin.fileno())
    tty.setraw(sys.stdin.fileno())
    try:
        yield
    finally:
        termios.tcsetattr(sys.stdin.fileno(), termios.TCSADRAIN, saved)


def _forward_input(ws: Any, raw: bool) -> None:
    read = (lambda: sys.stdin.read(1)) if raw else sys.stdin.readline
    try:
        while chunk := read():
            ws.send(chunk)
    except (OSError, websocket.WebSocketException):
        return  # the session ended while input was pending


def run_exec(ctx: Context) -> int:
    names.subdomain(str(ctx.args.pod), "pod", "pod")
    project, namespace = ctx.project(), str(ctx.namespace())
    url = session_url(
        ctx.gateway.server, project, namespace, ctx.args.pod, ctx.args.command_line,
        ctx.args.container,
    )  # fmt: skip
    ws = connect(ctx.gateway, url)
    hello = json.loads(ws.recv())
    logger.info("terminal session %s on %s/%s", hello.get("session_id"), namespace, ctx.args.pod)
    ws.settimeout(None)
    with _raw_terminal(ctx.args.tty):
        if ctx.args.stdin:
            threading.Thread(target=_forward_input, args=(ws, ctx.args.tty), daemon=True).start()
        reason = _relay_output(ctx, ws)
    ws.close()
    return exit_code_of(reason)


def _relay_output(ctx: Context, ws: Any) -> str:
    while True:
        opcode, frame = ws.recv_data(control_frame=True)
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            return frame[2:].decode(errors="replace") if len(frame) > 2 else ""
        if opcode in (websocket.ABNF.OPCODE_TEXT, websocket.ABNF.OPCODE_BINARY):
            ctx.out.write(frame.decode(errors="replace"))
            ctx.out.flush()
