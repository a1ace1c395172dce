"""`GET .../pods/<name>/logs?follow=true` through the gateway against the local cluster.

KWOK follows its emulated log file (two lines, then nothing) and keeps the stream open even
after the pod is gone, so these tests also show the relay's own ends: the pod's deletion and
the maximum duration.
"""

from __future__ import annotations

import time
from typing import Any

import requests
from kubernetes import client as k8s

from tests.e2e.workload.conftest import wait_until
from tests.e2e.workload.test_lifecycle import Api, _running
from tests.interface.gateway.conftest import Client


def _open(client: Client, tenant: dict, pod_path: str, **params: Any) -> requests.Response:
    return requests.get(
        f"{client.base}{pod_path}/logs",
        headers={"Authorization": f"Bearer {tenant['token']}"},
        params={"follow": "true", **params},
        stream=True,
        timeout=30,
    )


def _read_all(response: requests.Response) -> tuple[str, float]:
    """The whole streamed text and the seconds until the answer ended."""
    started = time.monotonic()
    text = b"".join(response.iter_content(chunk_size=None)).decode()
    return text, time.monotonic() - started


def _one_pod(client: Client, tenant: dict, namespace: str, core: k8s.CoreV1Api) -> str:
    Api(client, tenant, namespace, "talker").create(replicas=1)
    wait_until("the pod Running", lambda: len(_running(core, namespace, "talker")) == 1)
    return str(_running(core, namespace, "talker")[0].metadata.name)


def test_follow_streams_lines_and_ends_when_the_pod_goes(
    client: Client, tenant: dict, namespace: str, core: k8s.CoreV1Api
) -> None:
    pod = _one_pod(client, tenant, namespace, core)
    pod_path = f"/api/v1/projects/{tenant['project']}/pods/{pod}"

    response = _open(client, tenant, pod_path, namespace=namespace, max_seconds=60)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.headers.get("Transfer-Encoding") == "chunked"
    chunks = response.iter_content(chunk_size=None)
    first = next(chunks).decode()
    # KWOK's emulated container log; timestamps as in the non-follow answer
    assert "container started" in first or "listening" in first

    core.delete_namespaced_pod(pod, namespace, grace_period_seconds=0)
    deleted_at = time.monotonic()
    rest = b"".join(chunks).decode()
    ended_after = time.monotonic() - deleted_at
    assert ended_after < 15, f"the stream ended {ended_after:.1f}s after the pod's deletion"
    assert "listening" in first + rest


def test_follow_ends_after_max_seconds(
    client: Client, tenant: dict, namespace: str, core: k8s.CoreV1Api
) -> None:
    pod = _one_pod(client, tenant, namespace, core)
    pod_path = f"/api/v1/projects/{tenant['project']}/pods/{pod}"

    response = _open(client, tenant, pod_path, namespace=namespace, max_seconds=3)
    assert response.status_code == 200, response.text
    text, seconds = _read_all(response)
    assert "listening" in text
    assert 2.5 <= seconds < 12, seconds


def test_follow_refusals_come_before_the_stream(
    client: Client, tenant: dict, namespace: str, core: k8s.CoreV1Api
) -> None:
    base = f"/api/v1/projects/{tenant['project']}/pods"
    missing = _open(client, tenant, f"{base}/no-such-pod", namespace=namespace)
    assert missing.status_code == 404 and missing.json()["code"] == "pod_not_found"

    foreign = _open(client, tenant, f"{base}/anything", namespace="kube-system")
    assert foreign.status_code == 403, foreign.text

    no_follow = client.call(
        "GET",
        f"{base}/anything/logs",
        token=tenant["token"],
        params={"namespace": namespace, "max_seconds": 5},
    )
    assert no_follow.status == 400
    assert "max_seconds" in str(no_follow.body["details"])

    outsider = requests.get(
        f"{client.base}{base}/anything/logs",
        params={"namespace": namespace, "follow": "true"},
        timeout=10,
    )
    assert outsider.status_code == 401
