"""The network service's only door to Kubernetes (the import-linter contract keeps it so).

Everything leaves this module as plain dictionaries in the API's JSON form. An ApiException
becomes one of the service's errors, the original chained: 404 NetworkObjectNotFound, 409
NetworkObjectExists, 400/422 ClusterRefused (permanent), anything else and refused
connections ClusterUnavailable (retryable).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

from kubernetes import client

from services.network.exceptions import (
    ClusterRefused,
    ClusterUnavailable,
    NetworkObjectExists,
    NetworkObjectNotFound,
)
from shared.kube import ClusterErrors, api_client, call_cluster
from shared.kubewatch import Event, list_and_watch

logger = logging.getLogger(__name__)

T = TypeVar("T")
REQUEST_SECONDS = 20
MANAGED_SELECTOR = "scs.io/managed=true"


@functools.lru_cache(maxsize=1)
def _api() -> client.ApiClient:
    return api_client()


def _core() -> client.CoreV1Api:
    return client.CoreV1Api(_api())


def _networking() -> client.NetworkingV1Api:
    return client.NetworkingV1Api(_api())


def _discovery() -> client.DiscoveryV1Api:
    return client.DiscoveryV1Api(_api())


ERRORS = ClusterErrors(
    not_found=NetworkObjectNotFound,
    exists=NetworkObjectExists,
    refused=ClusterRefused,
    unavailable=ClusterUnavailable,
)


def _translated(call: Callable[[], T], what: str) -> T:
    return call_cluster(call, what, ERRORS, REQUEST_SECONDS)


def _plain(obj: Any) -> dict[str, Any]:
    return _api().sanitize_for_serialization(obj)  # type: ignore[no-any-return]


# -- namespaces -----------------------------------------------------------------------------


def get_namespace(name: str) -> dict[str, Any] | None:
    try:
        return _plain(_translated(lambda: _core().read_namespace(name), f"namespace {name}"))
    except NetworkObjectNotFound:
        return None


def list_namespaces(label_selector: str = MANAGED_SELECTOR) -> list[dict[str, Any]]:
    found = _translated(
        lambda: _core().list_namespace(label_selector=label_selector), "namespaces"
    )
    return [_plain(item) for item in found.items]


# -- Services and Ingresses -----------------------------------------------------------------

_READERS: dict[str, Callable[..., Any]] = {
    "Service": lambda ns, name: _core().read_namespaced_service(name, ns),
    "Ingress": lambda ns, name: _networking().read_namespaced_ingress(name, ns),
}
_LISTERS: dict[str, Callable[..., Any]] = {
    "Service": lambda ns: _core().list_namespaced_service(ns),
    "Ingress": lambda ns: _networking().list_namespaced_ingress(ns),
}
_CREATORS: dict[str, Callable[..., Any]] = {
    "Service": lambda ns, body: _core().create_namespaced_service(ns, body),
    "Ingress": lambda ns, body: _networking().create_namespaced_ingress(ns, body),
    "NetworkPolicy": lambda ns, body: _networking().create_namespaced_network_policy(ns, body),
}
_REPLACERS: dict[str, Callable[..., Any]] = {
    "Service": lambda ns, name, body: _core().replace_namespaced_service(name, ns, body),
    "Ingress": lambda ns, name, body: _networking().replace_namespaced_ingress(name, ns, body),
    "NetworkPolicy": lambda ns, name, body: _networking().replace_namespaced_network_policy(
        name, ns, body
    ),
}
_DELETERS: dict[str, Callable[..., Any]] = {
    "Service": lambda ns, name: _core().delete_namespaced_service(name, ns),
    "Ingress": lambda ns, name: _networking().delete_namespaced_ingress(name, ns),
}


def read_object(kind: str, namespace: str, name: str) -> dict[str, Any]:
    what = f"{kind} {namespace}/{name}"
    return _plain(_translated(lambda: _READERS[kind](namespace, name), what))


def list_objects(kind: str, namespace: str) -> list[dict[str, Any]]:
    found = _translated(lambda: _LISTERS[kind](namespace), f"{kind} list in {namespace}")
    return [_plain(item) for item in found.items]


def list_all_ingresses() -> list[dict[str, Any]]:
    found = _translated(lambda: _networking().list_ingress_for_all_namespaces(), "Ingress list")
    return [_plain(item) for item in found.items]


def create_object(manifest: dict[str, Any]) -> dict[str, Any]:
    kind, namespace = manifest["kind"], manifest["metadata"]["namespace"]
    what = f"{kind} {namespace}/{manifest['metadata'].get('name')}"
    return _plain(_translated(lambda: _CREATORS[kind](namespace, manifest), what))


def replace_object(manifest: dict[str, Any]) -> dict[str, Any]:
    kind, meta = manifest["kind"], manifest["metadata"]
    what = f"{kind} {meta['namespace']}/{meta['name']}"
    return _plain(
        _translated(lambda: _REPLACERS[kind](meta["namespace"], meta["name"], manifest), what)
    )


def delete_object(kind: str, namespace: str, name: str) -> None:
    _translated(lambda: _DELETERS[kind](namespace, name), f"{kind} {namespace}/{name}")


def read_network_policy(namespace: str, name: str) -> dict[str, Any] | None:
    try:
        return _plain(
            _translated(
                lambda: _networking().read_namespaced_network_policy(name, namespace),
                f"NetworkPolicy {namespace}/{name}",
            )
        )
    except NetworkObjectNotFound:
        return None


# -- load-balancer status and Kubernetes Events ----------------------------------------------


def set_load_balancer_ingress(namespace: str, name: str, addresses: list[str]) -> None:
    """Write status.loadBalancer.ingress through the status subresource."""
    body = {"status": {"loadBalancer": {"ingress": [{"ip": a} for a in addresses]}}}
    _translated(
        lambda: _core().patch_namespaced_service_status(name, namespace, body),
        f"Service {namespace}/{name} status",
    )


def record_kube_event(
    obj: dict[str, Any], reason: str, message: str, event_type: str = "Normal"
) -> None:
    """A core/v1 Event on the object, so `kubectl describe` shows what the controller did."""
    meta = obj["metadata"]
    now = datetime.now(UTC)
    body = client.CoreV1Event(
        metadata=client.V1ObjectMeta(
            generate_name=f"{meta['name']}.", namespace=meta["namespace"]
        ),
        involved_object=client.V1ObjectReference(
            kind=obj.get("kind", "Service"),
            api_version=obj.get("apiVersion", "v1"),
            namespace=meta["namespace"],
            name=meta["name"],
            uid=meta.get("uid"),
        ),
        reason=reason,
        message=message,
        type=event_type,
        first_timestamp=now,
        last_timestamp=now,
        count=1,
        source=client.V1EventSource(component="scs-network"),
    )
    _translated(
        lambda: _core().create_namespaced_event(meta["namespace"], body),
        f"Event on {meta['namespace']}/{meta['name']}",
    )


# -- watches ---------------------------------------------------------------------------------


def service_events() -> Iterator[Event]:
    """Every Service of the cluster (the controller filters LoadBalancer ones)."""
    return list_and_watch(_api(), _core().list_service_for_all_namespaces, what="Services")


def endpoint_slice_events() -> Iterator[Event]:
    return list_and_watch(
        _api(),
        _discovery().list_endpoint_slice_for_all_namespaces,
        what="EndpointSlices",
    )


def list_endpoint_slices(namespace: str, service: str) -> list[dict[str, Any]]:
    found = _translated(
        lambda: _discovery().list_namespaced_endpoint_slice(
            namespace, label_selector=f"kubernetes.io/service-name={service}"
        ),
        f"EndpointSlices of {namespace}/{service}",
    )
    return [_plain(item) for item in found.items]


def list_load_balancers() -> list[dict[str, Any]]:
    found = _translated(lambda: _core().list_service_for_all_namespaces(), "Services")
    return [_plain(s) for s in found.items if s.spec and s.spec.type == "LoadBalancer"]
