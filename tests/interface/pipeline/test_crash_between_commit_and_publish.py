"""A service process killed between its database commit and the publish loses no event,
and one killed after the publish but before marking the row sends a duplicate that audit
stores once. The processes are real (`python -m runner quota` relays what the dead one left).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from services.audit.service import AuditService
from shared.config import nameko_config
from tests.interface.pipeline.support import count_rows, wait_until

pytestmark = pytest.mark.interface

ROOT = Path(__file__).resolve().parents[3]
WRITER = Path(__file__).with_name("crash_writer.py")


def _env(quota_url: str, amqp_uri: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SCS_QUOTA_DATABASE_URL": quota_url,
        "SCS_AMQP_URI": amqp_uri,
        "SCS_LOG_LEVEL": "WARNING",
    }


def _die(mode: str, quota_url: str, extra: str, amqp_uri: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, str(WRITER), mode, quota_url, extra],
        env=_env(quota_url, amqp_uri),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    return done.stdout.split()


@contextmanager
def quota_process(quota_url: str, amqp_uri: str) -> Iterator[subprocess.Popen[bytes]]:
    """A fresh quota service process; its outbox relay sends what is pending."""
    process = subprocess.Popen(
        [sys.executable, "-m", "runner", "--no-migrate", "quota"],
        env=_env(quota_url, amqp_uri),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        process.terminate()  # our own child, by its pid
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _audited(url: str, event_id: str) -> int:
    return count_rows(url, "audit_records", "event_id = :id", id=event_id)


@pytest.fixture
def audit(container_factory: Any, databases: Any, amqp_uri: str) -> str:
    url = databases("audit")
    config = {**nameko_config(), "AMQP_URI": amqp_uri, "AUDIT_DATABASE_URL": url}
    container_factory(AuditService, config).start()  # its durable queue exists from now on
    return url


def test_killed_after_commit_the_event_still_arrives_once(
    audit: str, databases: Any, amqp_uri: str
) -> None:
    quota_url = databases("quota")
    (event_id,) = _die("after-commit", quota_url, "crash-project", amqp_uri)
    pending = "event_id = :id AND published_at IS NULL"
    assert count_rows(quota_url, "outbox", pending, id=event_id) == 1
    assert _audited(audit, event_id) == 0

    with quota_process(quota_url, amqp_uri):
        wait_until(lambda: _audited(audit, event_id) == 1, 30, "the event in the audit")
        sent = "event_id = :id AND published_at IS NOT NULL"
        wait_until(lambda: count_rows(quota_url, "outbox", sent, id=event_id), 10, "marked")
    assert _audited(audit, event_id) == 1


def test_killed_after_publish_the_duplicate_is_stored_once(
    audit: str, databases: Any, amqp_uri: str
) -> None:
    quota_url = databases("quota")
    (event_id,) = _die("after-commit", quota_url, "crash-project", amqp_uri)
    assert _die("after-publish", quota_url, amqp_uri, amqp_uri) == [event_id]
    wait_until(lambda: _audited(audit, event_id) == 1, 15, "the first copy in the audit")

    with quota_process(quota_url, amqp_uri):
        sent = "event_id = :id AND published_at IS NOT NULL"
        wait_until(lambda: count_rows(quota_url, "outbox", sent, id=event_id), 30, "resent")
    twice = "event_id = :id AND deliveries = 2"
    wait_until(lambda: count_rows(audit, "audit_records", twice, id=event_id), 15, "the copy")
    total = count_rows(audit, "audit_records", "event_type = 'quota.limits_set'")
    assert total == 1 and _audited(audit, event_id) == 1
