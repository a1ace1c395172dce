"""Namespace setup latency: from the API's create to `ready` (every setup step answered).

Runs auth, quota, cluster, network and the gateway in this process against the local cluster
(skipped, with a message, when no kubeconfig exists). The value: POST
/projects/{id}/namespaces until GET says ready — the cluster service creates the namespace and
announces it, quota mirrors the ResourceQuota, network installs the NetworkPolicy, both answer
`namespace.setup_done`. The baseline: creating a namespace directly with the kubernetes
client (one apiserver call, no setup). The ratio is what the event-driven setup costs.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

import requests
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from nameko.testing.utils import find_free_port

from bench.stats import latency_row
from runner.embedded import embedded_suite
from shared.config import kubeconfig_path

logger = logging.getLogger(__name__)

ROUNDS = 10
ADMIN = ("bench-admin", "bench-password-1")


def _call(base: str, token: str, method: str, path: str, body: Any = None) -> Any:
    reply = requests.request(
        method, base + path, json=body, timeout=30, headers={"Authorization": f"Bearer {token}"}
    )
    reply.raise_for_status()
    return reply.json()


def _ready_after(base: str, token: str, project: str, made: list[str]) -> float:
    name = f"bench-ns-{uuid.uuid4().hex[:8]}"
    made.append(name)
    start = time.perf_counter()
    _call(base, token, "POST", f"/api/v1/projects/{project}/namespaces", {"name": name})
    while not _call(base, token, "GET", f"/api/v1/projects/{project}/namespaces/{name}")["ready"]:
        if time.perf_counter() - start > 30:
            raise TimeoutError(f"namespace {name} not ready after 30 s")
        time.sleep(0.01)
    return time.perf_counter() - start


def _direct(core: k8s.CoreV1Api) -> tuple[str, float]:
    name = f"bench-raw-{uuid.uuid4().hex[:8]}"
    start = time.perf_counter()
    core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=name)))
    return name, time.perf_counter() - start


def run(amqp_uri: str, databases: dict[str, str]) -> list[dict[str, Any]]:
    if not kubeconfig_path().is_file():
        logger.warning("namespace setup bench skipped: no kubeconfig at %s", kubeconfig_path())
        return []
    from services.auth.bootstrap import bootstrap_admin

    config = {
        "AMQP_URI": amqp_uri,
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{find_free_port()}",
        "max_workers": 20,
    } | {f"{k.upper()}_DATABASE_URL": v for k, v in databases.items()}
    api = k8s_config.new_client_from_config(config_file=str(kubeconfig_path()))
    core = k8s.CoreV1Api(api)
    made: list[str] = []
    try:
        with embedded_suite(["auth", "quota", "cluster", "network", "gateway"], config):
            bootstrap_admin(config["AUTH_DATABASE_URL"], *ADMIN)
            base = f"http://{config['WEB_SERVER_ADDRESS']}"
            token = requests.post(
                f"{base}/api/v1/auth/login",
                timeout=10,
                json=dict(zip(("username", "password"), ADMIN, strict=True)),
            ).json()["token"]
            department = _call(base, token, "POST", "/api/v1/departments", {"name": "bench"})
            project = _call(
                base,
                token,
                "POST",
                "/api/v1/projects",
                {"name": "bench", "department_id": department["id"]},
            )["id"]
            platform = [_ready_after(base, token, project, made) for _ in range(ROUNDS)]
        direct = []
        for _ in range(ROUNDS):
            name, seconds = _direct(core)
            made.append(name)
            direct.append(seconds)
    finally:
        for name in made:
            core.delete_namespace(name, propagation_policy="Background")
        api.close()
    return latency_row("namespace create -> ready", platform, direct, "direct namespace create")
