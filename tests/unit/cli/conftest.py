"""Unit tests of the CLI. Faked: the gateway — a stub HTTP server on a free loopback port
(http.server in a thread) answers canned JSON per method and path and records each request.
Real: the CLI's argument parsing, HTTP client (requests), rendering, files and exit codes.
The config directory is a tmp_path (SCS_CONFIG_DIR), so the user's own credentials are never
read or written.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from cli.__main__ import main


@dataclass
class Endless:
    """A streamed text answer that sends `first`, then stays open and silent until the test
    ends (as `logs -f` of a quiet pod does)."""

    first: bytes


@dataclass
class Stub:
    """Canned answers: `answers[(method, path)] = (status, body)`; `requests` as received."""

    url: str = ""
    answers: dict[tuple[str, str], tuple[int, Any]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    released: threading.Event = field(default_factory=threading.Event)

    def on(self, method: str, path: str, status: int, body: Any) -> None:
        self.answers[(method, f"/api/v1{path}")] = (status, body)


def _handler(stub: Stub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            stub.requests.append(
                {
                    "method": self.command,
                    "path": parts.path,
                    "query": {k: v[0] for k, v in parse_qs(parts.query).items()},
                    "body": json.loads(raw) if raw else None,
                    "auth": self.headers.get("Authorization"),
                }
            )
            status, body = stub.answers.get(
                (self.command, parts.path),
                (404, {"code": "not_found", "message": "no such route", "details": {}}),
            )
            if isinstance(body, Endless):  # chunked, as the gateway streams `logs -f`
                self.protocol_version = "HTTP/1.1"
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Transfer-Encoding", "chunked")
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(body.first), body.first))
                self.wfile.flush()
                stub.released.wait(timeout=30)
                self.wfile.write(b"0\r\n\r\n")
                return
            # bytes are sent as they are (a streamed text/plain answer), anything else as JSON
            plain = isinstance(body, bytes)
            data = body if plain else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain" if plain else "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def stub() -> Iterator[Stub]:
    state = Stub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield state
    state.released.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "scs-config"
    monkeypatch.setenv("SCS_CONFIG_DIR", str(directory))
    for name in ("SCS_TOKEN", "SCS_SERVER", "SCS_USERNAME", "SCS_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    return directory


@dataclass
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def scs(
    stub: Stub,
    config_dir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Any:
    """Runs `scs ARGS` in-process against the stub; a usage error's SystemExit is its code."""

    def run(*args: str, token: str | None = "t0k3n") -> Run:
        if token:
            monkeypatch.setenv("SCS_TOKEN", token)
        else:
            monkeypatch.delenv("SCS_TOKEN", raising=False)
        try:
            code = main(["--server", stub.url, *args])
        except SystemExit as exc:
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


PROJECT = {"id": "p-1", "name": "vision", "department_id": "d-1", "created_at": "2026-12-04"}


@pytest.fixture
def project(stub: Stub) -> dict[str, Any]:
    stub.on("GET", "/projects", 200, {"items": [PROJECT], "total": 1, "limit": 500, "offset": 0})
    return PROJECT
