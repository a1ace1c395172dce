"""What the cluster acceptance tests share: polling, pod state, the shared inputs."""

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

REPO = Path(__file__).resolve().parents[3]
PROFILE = REPO / "deploy" / "cluster" / "nodes.yaml"
SHARED_INPUTS = Path(os.environ.get("SCS_SHARED_INPUTS", REPO.parent / "shared" / "inputs"))


def wait_until(
    what: str,
    check: Callable[[], Any],
    timeout: float = 60,
    interval: float = 0.5,
    explain: Callable[[], str] | None = None,
) -> Any:
    """Poll `check` until it returns something truthy; fail naming `what` after `timeout` s.

    `explain`, when given, adds the state that matters to the failure message.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            detail = f": {explain()}" if explain else ""
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}{detail}")
        time.sleep(interval)


def pods_of(core: client.CoreV1Api, namespace: str, selector: str) -> list[client.V1Pod]:
    """The pods matching `selector` that are not being deleted."""
    pods = core.list_namespaced_pod(namespace, label_selector=selector).items
    return [p for p in pods if p.metadata.deletion_timestamp is None]


def is_running_and_ready(pod: client.V1Pod) -> bool:
    conditions = pod.status.conditions or []
    ready = any(c.type == "Ready" and c.status == "True" for c in conditions)
    return pod.status.phase == "Running" and ready


def load_input(name: str) -> list[dict]:
    """The documents of one of the shared real manifests (../shared/inputs)."""
    path = SHARED_INPUTS / name
    if not path.is_file():
        pytest.fail(f"shared input manifest {path} is missing")
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
