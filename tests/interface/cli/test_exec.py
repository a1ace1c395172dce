"""`scs exec` (the real CLI, a subprocess) through the real gateway's terminal WebSocket.

Uses the fixtures of tests/interface/terminal/conftest.py: everything real except the cluster's
exec session, faked there by a stand-in `workload` service that knows the pod `web-0` and
opens an echo session (prompt "$ ", input echoed upper-cased, `exit` ends it with code 0).
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest

from tests.interface.cli.conftest import REPO
from tests.interface.terminal.conftest import (  # noqa: F401 - fixtures of this module
    amqp_vhost,
    client,
    suite_config,
    tenant,
)

pytestmark = pytest.mark.interface


def _exec(client: Any, token: str, project: str, *args: str, stdin: str = "") -> Any:  # noqa: F811
    env = {**os.environ, "SCS_SERVER": client.base, "SCS_TOKEN": token}
    env["SCS_CONFIG_DIR"] = str(REPO / ".no-such-scs-config")  # no default project or server
    return subprocess.run(
        [sys.executable, "-m", "cli", "exec", "-p", project, "-n", "vision-dev", *args],
        cwd=REPO,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_exec_relays_input_and_exits_with_the_commands_code(
    client: Any,  # noqa: F811
    tenant: dict[str, Any],  # noqa: F811
) -> None:
    done = _exec(client, tenant["token"], tenant["project"], "web-0", "-i", "--", "sh",
                 stdin="hello\nexit\n")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "$ " in done.stdout and "HELLO" in done.stdout


def test_exec_on_an_unknown_pod_is_one_line(
    client: Any,  # noqa: F811
    tenant: dict[str, Any],  # noqa: F811
) -> None:
    done = _exec(client, tenant["token"], tenant["project"], "web-9", "--", "sh")
    assert done.returncode == 1
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1


def test_exec_by_an_outsider_is_refused(
    client: Any,  # noqa: F811
    tenant: dict[str, Any],  # noqa: F811
) -> None:
    # the outsider sees no project: the CLI stops before the handshake
    done = _exec(client, tenant["outsider"], tenant["project"], "web-0", "--", "sh")
    assert done.returncode == 1
    assert done.stderr.startswith("error: project_not_found: ")
