"""The CLI as a Unix tool (faked: the gateway, see conftest.py): a reader that leaves early
(`scs` as its own process, since a broken pipe needs a real one) and the server's URL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cli.__main__ import main

RECORD = {"kind": "Deployment", "name": "web", "namespace": "dev", "replicas": 2,
          "stopped": False, "revision": 1, "rollout": {"state": "complete"}}  # fmt: skip


def test_a_closed_pipe_ends_quietly_with_141(stub: Any, project: Any, config_dir: Path) -> None:
    base = "/projects/p-1/workloads/web"
    stub.on("GET", base, 200, RECORD)
    stub.on("GET", f"{base}/pods", 200, {"items": []})
    stub.on("GET", f"{base}/revisions", 200, {"items": [{"revision": 1}]})
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first line is written
    env = {**os.environ, "SCS_TOKEN": "t0k3n", "SCS_CONFIG_DIR": str(config_dir)}
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "cli",
                "--server",
                stub.url,
                "describe",
                "workload",
                "web",
                "-p",
                "vision",
                "-n",
                "dev",
            ],  # fmt: skip
            stdout=write_end,
            stderr=subprocess.PIPE,
            env=env,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (141, b"")
    assert any(r["path"] == f"/api/v1{base}" for r in stub.requests)


@pytest.mark.parametrize("server", ["127.0.0.1:18080", "localhost", "ftp://host", "http://"])
def test_a_server_without_http_is_a_usage_error(
    server: str, config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--server", server, "get", "projects"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: usage: --server ") and err.count("\n") == 1
    assert err.endswith("is not a URL: give http://HOST:PORT (or https://) (field: server)\n")


def test_the_api_prefix_of_a_server_url_is_dropped(
    stub: Any, project: Any, config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCS_TOKEN", "t0k3n")
    assert main(["--server", f"{stub.url}/api/v1/", "get", "projects"]) == 0
    assert stub.requests[-1]["path"] == "/api/v1/projects"


def _scs_process(stub: Any, config_dir: Path, stdin: bytes, *argv: str) -> Any:
    env = {**os.environ, "SCS_CONFIG_DIR": str(config_dir)}
    for name in ("SCS_TOKEN", "SCS_SERVER", "SCS_USERNAME", "SCS_PASSWORD"):
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "cli", "--server", stub.url, *argv],
        input=stdin,
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
        start_new_session=True,  # no controlling terminal, as under a pipe in a script
    )


def test_login_reads_a_piped_password_without_a_prompt(stub: Any, config_dir: Path) -> None:
    stub.on("POST", "/auth/login", 201, {"token": "tok-1", "expires_at": "x"})
    done = _scs_process(stub, config_dir, b"pw-from-a-pipe\n", "login", "-u", "ana")
    assert (done.returncode, done.stderr) == (0, b""), done.stderr
    assert stub.requests[-1]["body"] == {"username": "ana", "password": "pw-from-a-pipe"}


def test_login_with_an_empty_piped_password_is_one_line(stub: Any, config_dir: Path) -> None:
    done = _scs_process(stub, config_dir, b"", "login", "-u", "ana")
    assert (done.returncode, done.stderr) == (2, b"error: no_input: Password is needed\n")
    assert stub.requests == []
