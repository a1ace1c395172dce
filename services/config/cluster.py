"""Cluster access of the config service: the only module here that imports `kubernetes`.

Answers plain dictionaries. ApiException becomes ConfigNotFound (404), ConfigExists (409),
ClusterRejected (400/403/422) or ClusterUnavailable (429, 5xx, no connection), original
chained. The apiserver's message is kept, with every value of the object being written
redacted from it, so a Secret's value can never travel in an error.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from kubernetes import client
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from services.config.exceptions import (
    ClusterRejected,
    ClusterUnavailable,
    ConfigExists,
    ConfigNotFound,
)
from shared.kube import ClusterDependency

logger = logging.getLogger(__name__)

T = TypeVar("T")
REDACTED = "[redacted]"


def redact(text: str, values: Iterable[str]) -> str:
    for value in sorted((v for v in values if v), key=len, reverse=True):
        text = text.replace(value, REDACTED)
    return text


def _translate(call: Callable[[], T], secrets: Iterable[str] = ()) -> T:
    try:
        return call()
    except ApiException as exc:
        try:
            message = str(json.loads(exc.body or "{}").get("message") or exc.reason)
        except ValueError:
            message = str(exc.reason)
        message = redact(message, secrets)
        details = {"status": exc.status, "reason": str(exc.reason), "message": message}
        if exc.status == 404:
            raise ConfigNotFound(message, details) from None
        if exc.status == 409:
            raise ConfigExists(message, details) from None
        if exc.status in (400, 403, 422):
            raise ClusterRejected(message, details) from None
        raise ClusterUnavailable(f"the Kubernetes API failed: {message}", details) from None
    except (HTTPError, OSError) as exc:
        raise ClusterUnavailable(
            f"the Kubernetes API is unreachable: {type(exc).__name__}", {}
        ) from exc


# NB: ApiException is not chained (`from None`) above because its body echoes the object
# sent, which for a Secret holds the values; the status and reason are kept in details.


class Cluster:
    """ConfigMaps and Secrets of one namespace; answers are plain dictionaries."""

    def __init__(self, api: client.ApiClient) -> None:
        self.api = api
        self.core = client.CoreV1Api(api)

    def _plain(self, obj: Any) -> dict[str, Any]:
        return self.api.sanitize_for_serialization(obj)  # type: ignore[no-any-return]

    def _calls(self, kind: str) -> dict[str, Callable[..., Any]]:
        if kind == "Secret":
            return {
                "read": self.core.read_namespaced_secret,
                "list": self.core.list_namespaced_secret,
                "create": self.core.create_namespaced_secret,
                "replace": self.core.replace_namespaced_secret,
                "delete": self.core.delete_namespaced_secret,
            }
        return {
            "read": self.core.read_namespaced_config_map,
            "list": self.core.list_namespaced_config_map,
            "create": self.core.create_namespaced_config_map,
            "replace": self.core.replace_namespaced_config_map,
            "delete": self.core.delete_namespaced_config_map,
        }

    def get_namespace(self, name: str) -> dict[str, Any]:
        return _translate(lambda: self._plain(self.core.read_namespace(name)))

    def read(self, kind: str, namespace: str, name: str) -> dict[str, Any]:
        call = self._calls(kind)["read"]
        return _translate(lambda: self._plain(call(name, namespace))) | {"kind": kind}

    def list(self, kind: str, namespace: str) -> list[dict[str, Any]]:
        call = self._calls(kind)["list"]
        items = _translate(lambda: call(namespace).items)
        return [self._plain(item) | {"kind": kind} for item in items]

    def create(self, body: dict[str, Any], secrets: Iterable[str]) -> dict[str, Any]:
        call = self._calls(body["kind"])["create"]
        namespace = body["metadata"]["namespace"]
        return _translate(lambda: self._plain(call(namespace, body)), secrets)

    def replace(self, body: dict[str, Any], secrets: Iterable[str]) -> dict[str, Any]:
        call = self._calls(body["kind"])["replace"]
        meta = body["metadata"]
        return _translate(
            lambda: self._plain(call(meta["name"], meta["namespace"], body)), secrets
        )

    def delete(self, kind: str, namespace: str, name: str) -> None:
        call = self._calls(kind)["delete"]
        _translate(lambda: call(name, namespace))


class KubernetesConfig(ClusterDependency):
    """nameko dependency: `self.kube` is the config service's `Cluster`, made on first use."""

    def __init__(self) -> None:
        super().__init__(Cluster, ClusterUnavailable)
