"""`python -m runner` refuses to start against a broker that refuses it for good (a vhost that
does not exist, wrong credentials) instead of retrying for ever, and starts against one that is
merely not there yet. Real: the local RabbitMQ; nothing is faked."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
from nameko.testing.utils import find_free_port

from runner.__main__ import broker_refusal
from tests.interface.cli.conftest import REPO
from tests.interface.gateway.conftest import amqp_vhost  # noqa: F401

pytestmark = pytest.mark.interface


def test_an_existing_vhost_is_accepted(amqp_vhost: str) -> None:  # noqa: F811
    assert broker_refusal(f"pyamqp://guest:guest@127.0.0.1:5672/{amqp_vhost}") is None


def test_a_missing_vhost_or_wrong_password_is_refused_with_the_reason() -> None:
    missing = f"scs-absent-{uuid.uuid4().hex[:8]}"
    refused = broker_refusal(f"pyamqp://guest:guest@127.0.0.1:5672/{missing}")
    assert refused is not None
    assert f"vhost '{missing}'" in refused and "create the vhost" in refused

    wrong = broker_refusal("pyamqp://guest:not-the-password@127.0.0.1:5672/")
    assert wrong is not None and "fix the credentials" in wrong


def test_a_broker_not_answering_yet_is_left_to_the_services() -> None:
    assert broker_refusal(f"pyamqp://guest:guest@127.0.0.1:{find_free_port()}/") is None


def test_the_runner_exits_at_once_with_one_clear_line(tmp_path) -> None:
    missing = f"scs-absent-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "SCS_AMQP_URI": f"pyamqp://guest:guest@127.0.0.1:5672/{missing}",
        "SCS_STATE_DIR": str(tmp_path),
        "SCS_GATEWAY_PORT": str(find_free_port()),
    }
    done = subprocess.run(
        [sys.executable, "-m", "runner", "auth", "--no-migrate"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr[-2000:]
    errors = [line for line in done.stderr.splitlines() if " ERROR " in line]
    assert len(errors) == 1 and "refuses the connection" in errors[0], done.stderr[-2000:]
