"""`scs exec` with the WebSocket faked: `websocket.create_connection` is replaced by a
FakeSocket that plays the gateway's terminal protocol (hello frame, output frames, a close
frame with its reason) and records what the CLI sent. The real gateway side is covered by
tests/interface/terminal."""

from __future__ import annotations

import json
import struct
from typing import Any

import pytest
import websocket

from cli import terminal


class FakeSocket:
    def __init__(self, output: list[str], reason: str) -> None:
        self.frames = [(websocket.ABNF.OPCODE_TEXT, o.encode()) for o in output]
        self.frames.append(
            (websocket.ABNF.OPCODE_CLOSE, struct.pack("!H", 1000) + reason.encode())
        )
        self.closed = False

    def recv(self) -> str:
        return json.dumps({"session_id": "s-1", "command": ["ls", "/"]})

    def recv_data(self, control_frame: bool = False) -> tuple[int, bytes]:
        return self.frames.pop(0)

    def settimeout(self, value: Any) -> None:
        pass

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def connected(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    seen: dict[str, Any] = {"socket": FakeSocket(["bin\n", "etc\n"], "exited 3")}

    def create_connection(url: str, header: list[str], timeout: float) -> FakeSocket:
        seen.update(url=url, header=header)
        return seen["socket"]

    monkeypatch.setattr(terminal.websocket, "create_connection", create_connection)
    return seen


def test_exec_prints_output_and_exits_with_the_remote_code(
    scs: Any, stub: Any, project: Any, connected: dict[str, Any]
) -> None:
    run = scs("exec", "web-0", "-n", "dev", "-p", "vision", "--", "ls", "-l", "/my dir")
    assert (run.code, run.out) == (3, "bin\netc\n")
    assert connected["url"].startswith(stub.url.replace("http://", "ws://"))
    assert (
        "/api/v1/projects/p-1/pods/web-0/exec?namespace=dev&command=ls+-l+%27%2Fmy+dir%27"
        in (connected["url"])
    )
    assert connected["header"] == ["Authorization: Bearer t0k3n"]
    assert connected["socket"].closed


def test_exec_refused_at_the_handshake_is_one_line(
    scs: Any, project: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(url: str, header: list[str], timeout: float) -> None:
        body = json.dumps({"code": "forbidden", "message": "no terminal for you", "details": {}})
        raise websocket.WebSocketBadStatusException("refused", 403, resp_body=body.encode())

    monkeypatch.setattr(terminal.websocket, "create_connection", refuse)
    run = scs("exec", "web-0", "-n", "dev", "-p", "vision", "--", "sh")
    assert (run.code, run.err) == (4, "error: forbidden: no terminal for you\n")


def test_session_end_reasons() -> None:
    assert terminal.exit_code_of("exited 0") == 0
    assert terminal.exit_code_of("exited 127") == 127
    assert terminal.exit_code_of("max_duration") == 5
