"""The storage service's only door to Kubernetes (the import-linter contract keeps it so).

The client sends dictionaries as they are, so bodies are passed as dicts (typed as the
client's models in its stubs, hence the `type: ignore[arg-type]`). Objects leave this module
as plain dictionaries (the API's JSON form). An ApiException
becomes one of the service's errors, the original chained: 404 StorageObjectNotFound, 409
StorageObjectExists, 400/422 ClusterRefused (permanent), anything else ClusterUnavailable.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

from kubernetes import client

from services.storage.exceptions import (
    ClusterRefused,
    ClusterUnavailable,
    StorageObjectExists,
    StorageObjectNotFound,
)
from shared.kube import ClusterErrors, api_client, call_cluster
from shared.kubewatch import Event, list_and_watch

logger = logging.getLogger(__name__)

T = TypeVar("T")
REQUEST_SECONDS = 20


@functools.lru_cache(maxsize=1)
def _api() -> client.ApiClient:
    return api_client()


def _core() -> client.CoreV1Api:
    return client.CoreV1Api(_api())


def _storage() -> client.StorageV1Api:
    return client.StorageV1Api(_api())


ERRORS = ClusterErrors(
    not_found=StorageObjectNotFound,
    exists=StorageObjectExists,
    refused=ClusterRefused,
    unavailable=ClusterUnavailable,
)


def _translated(call: Callable[[], T], what: str) -> T:
    return call_cluster(call, what, ERRORS, REQUEST_SECONDS)


def _plain(obj: Any) -> dict[str, Any]:
    return _api().sanitize_for_serialization(obj)  # type: ignore[no-any-return]


# -- namespaces ------------------------------------------------------------------------------


def get_namespace(name: str) -> dict[str, Any] | None:
    try:
        return _plain(_translated(lambda: _core().read_namespace(name), f"namespace {name}"))
    except StorageObjectNotFound:
        return None


def list_namespaces(label_selector: str) -> list[dict[str, Any]]:
    found = _translated(
        lambda: _core().list_namespace(label_selector=label_selector), "namespaces"
    )
    return [_plain(item) for item in found.items]


# -- StorageClasses ----------------------------------------------------------------------------


def read_storage_class(name: str) -> dict[str, Any]:
    return _plain(_translated(lambda: _storage().read_storage_class(name), f"StorageClass {name}"))


def create_storage_class(body: dict[str, Any]) -> dict[str, Any]:
    what = f"StorageClass {body['metadata']['name']}"
    return _plain(_translated(lambda: _storage().create_storage_class(body), what))  # type: ignore[arg-type]


def patch_storage_class(name: str, patch: dict[str, Any]) -> None:
    _translated(lambda: _storage().patch_storage_class(name, patch), f"StorageClass {name}")


# -- claims ------------------------------------------------------------------------------------


def read_claim(namespace: str, name: str) -> dict[str, Any]:
    return _plain(
        _translated(
            lambda: _core().read_namespaced_persistent_volume_claim(name, namespace),
            f"PersistentVolumeClaim {namespace}/{name}",
        )
    )


def list_claims(namespace: str) -> list[dict[str, Any]]:
    found = _translated(
        lambda: _core().list_namespaced_persistent_volume_claim(namespace),
        f"PersistentVolumeClaims in {namespace}",
    )
    return [_plain(item) for item in found.items]


def create_claim(body: dict[str, Any]) -> dict[str, Any]:
    namespace = body["metadata"]["namespace"]
    return _plain(
        _translated(
            lambda: _core().create_namespaced_persistent_volume_claim(namespace, body),  # type: ignore[arg-type]
            f"PersistentVolumeClaim {namespace}/{body['metadata'].get('name')}",
        )
    )


def replace_claim(body: dict[str, Any]) -> dict[str, Any]:
    meta = body["metadata"]
    return _plain(
        _translated(
            lambda: _core().replace_namespaced_persistent_volume_claim(
                meta["name"],
                meta["namespace"],
                body,  # type: ignore[arg-type]
            ),
            f"PersistentVolumeClaim {meta['namespace']}/{meta['name']}",
        )
    )


def patch_claim(namespace: str, name: str, patch: dict[str, Any]) -> dict[str, Any]:
    return _plain(
        _translated(
            lambda: _core().patch_namespaced_persistent_volume_claim(name, namespace, patch),
            f"PersistentVolumeClaim {namespace}/{name}",
        )
    )


def patch_claim_status(namespace: str, name: str, patch: dict[str, Any]) -> None:
    _translated(
        lambda: _core().patch_namespaced_persistent_volume_claim_status(name, namespace, patch),
        f"PersistentVolumeClaim {namespace}/{name} status",
    )


def delete_claim(namespace: str, name: str) -> None:
    _translated(
        lambda: _core().delete_namespaced_persistent_volume_claim(name, namespace),
        f"PersistentVolumeClaim {namespace}/{name}",
    )


# -- PersistentVolumes -------------------------------------------------------------------------


def read_volume(name: str) -> dict[str, Any]:
    return _plain(
        _translated(lambda: _core().read_persistent_volume(name), f"PersistentVolume {name}")
    )


def list_volumes() -> list[dict[str, Any]]:
    found = _translated(lambda: _core().list_persistent_volume(), "PersistentVolumes")
    return [_plain(item) for item in found.items]


def create_volume(body: dict[str, Any]) -> dict[str, Any]:
    what = f"PersistentVolume {body['metadata']['name']}"
    return _plain(_translated(lambda: _core().create_persistent_volume(body), what))  # type: ignore[arg-type]


def patch_volume(name: str, patch: dict[str, Any]) -> None:
    _translated(lambda: _core().patch_persistent_volume(name, patch), f"PersistentVolume {name}")


def delete_volume(name: str) -> None:
    _translated(lambda: _core().delete_persistent_volume(name), f"PersistentVolume {name}")


# -- Events and watches --------------------------------------------------------------------------


def record_kube_event(obj: dict[str, Any], reason: str, message: str, kind: str) -> None:
    """A core/v1 Event on the claim, so `kubectl describe pvc` shows the provisioner's view."""
    meta = obj["metadata"]
    now = datetime.now(UTC)
    body = client.CoreV1Event(
        metadata=client.V1ObjectMeta(
            generate_name=f"{meta['name']}.", namespace=meta["namespace"]
        ),
        involved_object=client.V1ObjectReference(
            kind="PersistentVolumeClaim",
            api_version="v1",
            namespace=meta["namespace"],
            name=meta["name"],
            uid=meta.get("uid"),
        ),
        reason=reason,
        message=message,
        type=kind,
        first_timestamp=now,
        last_timestamp=now,
        count=1,
        source=client.V1EventSource(component="scs-storage"),
    )
    _translated(
        lambda: _core().create_namespaced_event(meta["namespace"], body),
        f"Event on {meta['namespace']}/{meta['name']}",
    )


def claim_events() -> Iterator[Event]:
    return list_and_watch(
        _api(),
        _core().list_persistent_volume_claim_for_all_namespaces,
        what="PersistentVolumeClaims",
    )


def volume_events() -> Iterator[Event]:
    return list_and_watch(_api(), _core().list_persistent_volume, what="PersistentVolumes")
