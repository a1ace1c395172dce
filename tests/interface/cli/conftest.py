"""The real `scs` CLI (a subprocess, `python -m cli`) against an in-process suite: auth, quota,
audit, billing and gateway — the workload service is not needed for tenancy, quota, audit and
usage commands, and its absence is itself an error path (503).

Builds on tests/interface/gateway/conftest.py (same users, projects and roles in `world`).
Real: RabbitMQ (a fresh vhost per module), PostgreSQL (a fresh database per service), the
nameko containers, the HTTP server on a free loopback port, and the CLI process. Nothing is
faked. Each test gets its own config directory (SCS_CONFIG_DIR), so no user file is touched.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.interface.gateway.conftest import (  # noqa: F401 - fixtures used by the tests
    ADMIN,
    Client,
    admin_token,
    amqp_vhost,
    running_suite,
    suite_config_of,
    world,
)

REPO = Path(__file__).resolve().parents[3]
SERVICES = ["auth", "quota", "audit", "billing", "gateway"]
PASSWORD = "correct-horse-battery"  # the password of `world`'s users


@pytest.fixture(scope="module")
def suite_config(amqp_vhost: str, postgres_admin_url: str) -> Iterator[dict[str, Any]]:  # noqa: F811
    with suite_config_of(amqp_vhost, postgres_admin_url, SERVICES) as config:
        yield config


@pytest.fixture(scope="module")
def client(suite_config: dict[str, Any]) -> Iterator[Client]:
    with running_suite(SERVICES, suite_config) as client:
        yield client


@dataclass
class Result:
    code: int
    out: str
    err: str


class Scs:
    """Runs `python -m cli ARGS` with SCS_SERVER at the suite and its own config directory."""

    def __init__(self, server: str, config_dir: Path) -> None:
        self.env = {
            k: v for k, v in os.environ.items() if not k.startswith(("SCS_TOKEN", "SCS_PASS"))
        }
        self.env.update({"SCS_SERVER": server, "SCS_CONFIG_DIR": str(config_dir)})
        self.config_dir = config_dir

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> Result:
        done = subprocess.run(
            [sys.executable, "-m", "cli", *args],
            cwd=REPO,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=60,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    def login(self, username: str, password: str = PASSWORD) -> Result:
        result = self("login", "-u", username, env={"SCS_PASSWORD": password})
        assert result.code == 0, result.err
        return result


@pytest.fixture
def scs(client: Client, tmp_path: Path) -> Scs:
    return Scs(client.base, tmp_path / "scs-config")
