"""Cluster access of the cluster service: the only module here that imports `kubernetes`.

Every call answers plain JSON-ready dictionaries (the API's own field names, camelCase) and
turns the client's errors into this service's errors, the original chained:
404 -> ObjectNotFound, 409 -> ObjectExists, 400/403/422 -> ClusterRejected (permanent),
429, 5xx and connection failures -> ClusterUnavailable (retryable).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from kubernetes import client
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from services.cluster.exceptions import (
    ClusterRejected,
    ClusterUnavailable,
    ObjectExists,
    ObjectNotFound,
)
from shared.kube import ClusterDependency

logger = logging.getLogger(__name__)

T = TypeVar("T")
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod")


def _k8s_message(exc: ApiException) -> str:
    import json

    try:
        return str(json.loads(exc.body or "{}").get("message") or exc.reason)
    except ValueError:
        return str(exc.reason)


def translate(call: Callable[..., T]) -> Callable[..., T]:
    """Decorator: ApiException and transport errors become this service's errors."""

    @functools.wraps(call)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return call(*args, **kwargs)
        except ApiException as exc:
            message = _k8s_message(exc)
            details = {"status": exc.status, "reason": str(exc.reason), "message": message}
            if exc.status == 404:
                raise ObjectNotFound(message, details) from exc
            if exc.status == 409:
                raise ObjectExists(message, details) from exc
            if exc.status in (400, 403, 422):
                raise ClusterRejected(message, details) from exc
            raise ClusterUnavailable(f"the Kubernetes API failed: {message}", details) from exc
        except (HTTPError, OSError) as exc:
            raise ClusterUnavailable(
                f"the Kubernetes API is unreachable: {type(exc).__name__}", {}
            ) from exc

    return wrapper


class Cluster:
    """Thin, translated calls on the Kubernetes API; answers are plain dictionaries."""

    def __init__(self, api: client.ApiClient) -> None:
        self.api = api
        self.core = client.CoreV1Api(api)
        self.apps = client.AppsV1Api(api)
        self.batch = client.BatchV1Api(api)
        self.node_api = client.NodeV1Api(api)
        self.ext = client.ApiextensionsV1Api(api)
        self.custom = client.CustomObjectsApi(api)

    def _plain(self, obj: Any) -> Any:
        return self.api.sanitize_for_serialization(obj)

    # -- cluster and nodes -------------------------------------------------------------------

    @translate
    def version(self) -> dict[str, Any]:
        return self._plain(client.VersionApi(self.api).get_code())

    @translate
    def list_nodes(self) -> list[dict[str, Any]]:
        return self._plain(self.core.list_node().items)

    @translate
    def get_node(self, name: str) -> dict[str, Any]:
        return self._plain(self.core.read_node(name))

    @translate
    def patch_node(self, name: str, patch: dict[str, Any]) -> dict[str, Any]:
        return self._plain(self.core.patch_node(name, patch))

    @translate
    def list_pods(self, field_selector: str = "") -> list[dict[str, Any]]:
        pods = self.core.list_pod_for_all_namespaces(field_selector=field_selector).items
        return self._plain(pods)

    @translate
    def list_runtime_classes(self) -> list[dict[str, Any]]:
        return self._plain(self.node_api.list_runtime_class().items)

    # -- namespaces --------------------------------------------------------------------------

    @translate
    def create_namespace(self, name: str, labels: dict[str, str]) -> dict[str, Any]:
        meta = {"name": name, "labels": labels}
        body: Any = {"apiVersion": "v1", "kind": "Namespace", "metadata": meta}
        return self._plain(self.core.create_namespace(body))

    @translate
    def get_namespace(self, name: str) -> dict[str, Any]:
        return self._plain(self.core.read_namespace(name))

    @translate
    def list_namespaces(self, label_selector: str) -> list[dict[str, Any]]:
        items = self.core.list_namespace(label_selector=label_selector).items
        return self._plain(items)

    @translate
    def delete_namespace(self, name: str) -> None:
        self.core.delete_namespace(name, propagation_policy="Background")

    @translate
    def count_workloads(self, namespace: str) -> dict[str, int]:
        """How many objects of each workload kind the namespace holds."""
        lists: dict[str, Any] = {
            "Deployment": self.apps.list_namespaced_deployment,
            "StatefulSet": self.apps.list_namespaced_stateful_set,
            "DaemonSet": self.apps.list_namespaced_daemon_set,
            "Job": self.batch.list_namespaced_job,
            "CronJob": self.batch.list_namespaced_cron_job,
            "Pod": self.core.list_namespaced_pod,
        }
        return {kind: len(lister(namespace).items) for kind, lister in lists.items()}

    # -- CRDs and custom resources -----------------------------------------------------------

    @translate
    def create_crd(self, manifest: Any) -> dict[str, Any]:
        created = self.ext.create_custom_resource_definition(manifest)
        return self._plain(created)

    @translate
    def list_crds(self) -> list[dict[str, Any]]:
        items = self.ext.list_custom_resource_definition().items
        return self._plain(items)

    @translate
    def create_custom_object(
        self, group: str, version: str, plural: str, namespace: str | None, body: dict[str, Any]
    ) -> dict[str, Any]:
        created: Any
        if namespace is None:
            created = self.custom.create_cluster_custom_object(group, version, plural, body)
        else:
            created = self.custom.create_namespaced_custom_object(
                group, version, namespace, plural, body
            )
        return dict(created)

    @translate
    def list_custom_objects(
        self, group: str, version: str, plural: str, namespace: str
    ) -> list[dict[str, Any]]:
        answer: Any = self.custom.list_namespaced_custom_object(group, version, namespace, plural)
        return list(answer.get("items", []))

    @translate
    def delete_custom_object(
        self, group: str, version: str, plural: str, namespace: str, name: str
    ) -> None:
        self.custom.delete_namespaced_custom_object(group, version, namespace, plural, name)


class KubernetesCluster(ClusterDependency):
    """nameko dependency: `self.kube` is the cluster service's `Cluster`, made on first use."""

    def __init__(self) -> None:
        super().__init__(Cluster, ClusterUnavailable)
