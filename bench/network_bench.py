"""Time from a pod turning Ready to its load-balancer member being added (local cluster).

The network service runs in this process (its own vhost and database) against the local
cluster, serving only the bench's namespace. A LoadBalancer Service selects a Deployment that
is scaled from 0 to 20 replicas, twice. For every pod, three moments are taken on this machine's
clock by watches in this process:
- Ready: a pod watch sees the pod's Ready condition turn true (KWOK marks it);
- slice: an EndpointSlice watch sees the pod's IP as a ready endpoint (the cluster's own
  EndpointSlice controller; the baseline: the network service cannot act before this);
- member: the `lb.member_added` event for that IP arrives on the bus (after the controller
  recorded the member and the outbox relay published it).
Value: Ready -> member; baseline: Ready -> slice; the ratio is the end-to-end time over the
cluster's own propagation. Without a kubeconfig the benchmark reports that it was skipped.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import eventlet
from kombu import Connection, Exchange, Queue
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes import watch

from bench.stats import latency_row
from runner.embedded import embedded_suite
from shared.config import kubeconfig_path

NAME = "network: pod Ready -> LB member added"
REPLICAS = 20
WAVES = 2


def run(amqp_uri: str, database_url: str) -> list[dict[str, Any]]:
    if not kubeconfig_path().is_file():
        return [
            {
                "benchmark": NAME,
                "metric": "skipped: no cluster",
                "value": None,
                "baseline": None,
                "baseline_value": None,
                "ratio": None,
            }
        ]
    api = k8s_config.new_client_from_config(config_file=str(kubeconfig_path()))
    label = uuid.uuid4().hex[:8]
    config = {
        "AMQP_URI": amqp_uri,
        "NETWORK_DATABASE_URL": database_url,
        "NETWORK_NAMESPACE_SELECTOR": f"scs-bench={label}",
        "LB_POOL": "198.51.100.200",
        "max_workers": 20,
    }
    core = k8s.CoreV1Api(api)
    namespace = f"bench-net-{label}"
    core.create_namespace(
        {
            "metadata": {
                "name": namespace,
                "labels": {
                    "scs.io/project": "bench",
                    "scs.io/managed": "true",
                    "scs-bench": label,
                },
            }
        }
    )
    try:
        with embedded_suite(["network"], config):
            value, baseline = _measure(api, amqp_uri, namespace)
    finally:
        core.delete_namespace(namespace, propagation_policy="Background")
        api.close()
    return latency_row(NAME, value, baseline, "pod Ready -> EndpointSlice ready")


def _measure(api: k8s.ApiClient, amqp_uri: str, namespace: str) -> tuple[list, list]:
    """(Ready -> member, Ready -> slice) in seconds, per pod, over WAVES scale-ups."""
    core, apps = k8s.CoreV1Api(api), k8s.AppsV1Api(api)
    core.create_namespaced_service(
        namespace,
        {
            "metadata": {"name": "bench"},
            "spec": {
                "type": "LoadBalancer",
                "selector": {"app": "bench"},
                "ports": [{"port": 80}],
            },
        },
    )
    apps.create_namespaced_deployment(namespace, _deployment())
    value: list[float] = []
    baseline: list[float] = []
    for _ in range(WAVES):
        # Fresh maps per wave: the simulated nodes hand out the same pod IPs again.
        ready: dict[str, float] = {}
        sliced: dict[str, float] = {}
        member: dict[str, float] = {}
        threads = [
            eventlet.spawn(_watch_pods, api, namespace, ready),
            eventlet.spawn(_watch_slices, api, namespace, sliced),
            eventlet.spawn(_tap_members, amqp_uri, namespace, member),
        ]
        try:
            eventlet.sleep(0.5)  # the watches and the queue are in place
            _scale(apps, namespace, REPLICAS)
            _wait(lambda: len(member) >= REPLICAS, 120)  # noqa: B023 - called in this wave
        finally:
            for thread in threads:
                thread.kill()
        value += [member[ip] - ready[ip] for ip in member if ip in ready]
        baseline += [sliced[ip] - ready[ip] for ip in member if ip in ready and ip in sliced]
        _scale(apps, namespace, 0)
        _wait(lambda: not core.list_namespaced_pod(namespace).items, 120)
    return value, baseline


def _deployment() -> dict[str, Any]:
    return {
        "metadata": {"name": "bench"},
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": {"app": "bench"}},
            "template": {
                "metadata": {"labels": {"app": "bench"}},
                "spec": {
                    "runtimeClassName": "kata",
                    "containers": [{"name": "web", "image": "nginx:1.27"}],
                },
            },
        },
    }


def _scale(apps: k8s.AppsV1Api, namespace: str, replicas: int) -> None:
    apps.patch_namespaced_deployment_scale("bench", namespace, {"spec": {"replicas": replicas}})


def _wait(check: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("the network benchmark did not converge")
        eventlet.sleep(0.2)


def _watch_pods(api: k8s.ApiClient, namespace: str, seen: dict[str, float]) -> None:
    for event in watch.Watch().stream(k8s.CoreV1Api(api).list_namespaced_pod, namespace):
        pod = event["object"]
        conditions = pod.status.conditions or []
        if pod.status.pod_ip and any(c.type == "Ready" and c.status == "True" for c in conditions):
            seen.setdefault(pod.status.pod_ip, time.time())


def _watch_slices(api: k8s.ApiClient, namespace: str, seen: dict[str, float]) -> None:
    lister = k8s.DiscoveryV1Api(api).list_namespaced_endpoint_slice
    for event in watch.Watch().stream(lister, namespace):
        for endpoint in event["object"].endpoints or []:
            if endpoint.conditions and endpoint.conditions.ready is not False:
                for ip in endpoint.addresses:
                    seen.setdefault(ip, time.time())


def _tap_members(amqp_uri: str, namespace: str, seen: dict[str, float]) -> None:
    exchange = Exchange("scs.events", type="topic", durable=True)
    queue = Queue(
        f"bench-tap-{uuid.uuid4().hex[:8]}",
        exchange,
        routing_key="lb.member_added",
        exclusive=True,
        auto_delete=True,
    )

    def on_message(body: dict[str, Any], message: Any) -> None:
        if body["resource"]["namespace"] == namespace:
            seen.setdefault(body["data"]["member"], time.time())
        message.ack()

    with (
        Connection(amqp_uri) as connection,
        connection.Consumer([queue], callbacks=[on_message], accept=["json"]),
    ):
        while True:
            try:
                connection.drain_events(timeout=1)
            except TimeoutError:
                continue
