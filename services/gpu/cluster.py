"""The gpu service's only door to the Kubernetes API.

Lists and watches nodes and pods and turns them into NodeFacts / PodFacts (inventory.py), reads
a namespace's project label, and labels a node (the discovery agent). Every ApiException is
translated here: 410 Gone -> WatchExpired (list again), 5xx, 429 and connection failures ->
ClusterUnavailable (retryable), other 4xx -> ClusterRefused (permanent); the original is
chained.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException
from urllib3.exceptions import HTTPError

from services.gpu import matrix
from services.gpu.exceptions import ClusterRefused, ClusterUnavailable, WatchExpired
from services.gpu.inventory import NodeFacts, PodFacts
from shared import kube
from shared.quantity import parse_quantity

logger = logging.getLogger(__name__)

PROJECT_LABEL = "scs.io/project"
WATCH_SECONDS = 300  # each watch ends after this; the loop then lists again (a resync)
REQUEST_TIMEOUT = 30

T = TypeVar("T")


def _translated(call: Callable[[], T], what: str) -> T:
    try:
        return call()
    except ApiException as exc:
        raise _translate(exc, what) from exc
    except (HTTPError, OSError) as exc:
        logger.warning("%s: the cluster did not answer: %s", what, exc)
        reason = kube.unreachable_reason(exc)
        raise ClusterUnavailable(f"{what}: the cluster did not answer ({reason})") from exc


def _translate(exc: ApiException, what: str) -> Exception:
    status = exc.status or 0
    if status == 410:
        return WatchExpired(what)
    if status >= 500 or status in (0, 429):
        return ClusterUnavailable(f"{what}: {status} {exc.reason}", {"status": status})
    return ClusterRefused(f"{what}: {status} {exc.reason}", {"status": status})


def _gpu_count(values: dict[str, str] | None) -> int:
    raw = (values or {}).get(matrix.GPU_RESOURCE)
    return int(parse_quantity(raw)) if raw else 0


def _version(listing: Any) -> str:
    return str(listing.metadata.resource_version) if listing.metadata else ""


def node_facts(node: Any) -> NodeFacts:
    labels = dict(node.metadata.labels or {})
    return NodeFacts(
        name=node.metadata.name,
        arch=labels.get(matrix.ARCH_LABEL)
        or (node.status.node_info.architecture if node.status.node_info else None),
        product=labels.get(matrix.PRODUCT_LABEL),
        capacity=_gpu_count(node.status.capacity),
        allocatable=_gpu_count(node.status.allocatable),
        unschedulable=bool(node.spec.unschedulable) if node.spec else False,
        labels=labels,
    )


def pod_facts(pod: Any) -> PodFacts:
    count = 0
    for container in pod.spec.containers or []:
        resources = container.resources
        limits = resources.limits if resources else None
        count += _gpu_count(limits)
    return PodFacts(
        uid=pod.metadata.uid,
        namespace=pod.metadata.namespace,
        name=pod.metadata.name,
        node=pod.spec.node_name,
        count=count,
        phase=(pod.status.phase if pod.status else None) or "Pending",
    )


class Cluster:
    """One ApiClient per service process; each watch gets its own Watch object."""

    def __init__(self, api: client.ApiClient | None = None) -> None:
        self._api = api

    @property
    def core(self) -> client.CoreV1Api:
        if self._api is None:
            try:
                self._api = _translated(kube.api_client, "loading the kubeconfig")
            except ConfigException as exc:
                logger.warning("no usable kubeconfig: %s", exc)
                raise ClusterUnavailable(
                    "the cluster is not reachable (no usable cluster configuration)"
                ) from exc
        return client.CoreV1Api(self._api)

    def list_nodes(self) -> tuple[list[NodeFacts], str]:
        answer = _translated(
            lambda: self.core.list_node(_request_timeout=REQUEST_TIMEOUT), "listing nodes"
        )
        return [node_facts(n) for n in answer.items], _version(answer)

    def watch_nodes(self, resource_version: str) -> Iterator[tuple[str, NodeFacts]]:
        for kind, obj in self._watch(self.core.list_node, resource_version, "watching nodes"):
            yield kind, node_facts(obj)

    def list_pods(self) -> tuple[list[PodFacts], str]:
        answer = _translated(
            lambda: self.core.list_pod_for_all_namespaces(_request_timeout=REQUEST_TIMEOUT),
            "listing pods",
        )
        pods = [pod_facts(p) for p in answer.items]
        return [p for p in pods if p.count > 0], _version(answer)

    def watch_pods(self, resource_version: str) -> Iterator[tuple[str, PodFacts]]:
        stream = self._watch(
            self.core.list_pod_for_all_namespaces, resource_version, "watching pods"
        )
        for kind, obj in stream:
            facts = pod_facts(obj)
            if facts.count > 0:
                yield kind, facts

    def namespace_project(self, name: str) -> str | None:
        try:
            namespace = _translated(
                lambda: self.core.read_namespace(name, _request_timeout=REQUEST_TIMEOUT),
                f"reading namespace {name}",
            )
        except ClusterRefused:
            return None  # deleted meanwhile
        labels = namespace.metadata.labels if namespace.metadata else None
        return (labels or {}).get(PROJECT_LABEL)

    def label_node(self, name: str, labels: dict[str, str]) -> None:
        body = {"metadata": {"labels": labels}}
        _translated(
            lambda: self.core.patch_node(name, body, _request_timeout=REQUEST_TIMEOUT),
            f"labelling node {name}",
        )

    def _watch(
        self, list_call: Callable[..., Any], resource_version: str, what: str
    ) -> Iterator[tuple[str, Any]]:
        stream = watch.Watch().stream(
            list_call,
            resource_version=resource_version,
            timeout_seconds=WATCH_SECONDS,
            allow_watch_bookmarks=False,
            _request_timeout=WATCH_SECONDS + 10,
        )
        try:
            for event in stream:
                if event["type"] == "ERROR":
                    status = event["raw_object"] or {}
                    if status.get("code") == 410:
                        raise WatchExpired(what)
                    raise ClusterUnavailable(f"{what}: {status.get('message')}")
                yield event["type"], event["object"]
        except ApiException as exc:
            raise _translate(exc, what) from exc
        except (HTTPError, OSError) as exc:
            logger.warning("%s: the connection broke: %s", what, exc)
            reason = kube.unreachable_reason(exc)
            raise ClusterUnavailable(f"{what}: the connection broke ({reason})") from exc
