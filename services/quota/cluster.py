"""Cluster access of the quota service: the only module here that imports `kubernetes`.

The quota service mirrors each project's limits into a ResourceQuota in every namespace of the
project (defence in depth: the apiserver itself refuses a pod that would break them). This
module writes that object and finds the project's namespaces by their labels
(docs/tenancy.md). ApiException becomes ClusterRejected (400/403/404/409/422, permanent) or
ClusterUnavailable (429, 5xx, no connection; retryable), original chained.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from kubernetes import client
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from services.quota.exceptions import ClusterRejected, ClusterUnavailable
from shared.kube import ClusterDependency

logger = logging.getLogger(__name__)

T = TypeVar("T")
QUOTA_NAME = "scs-project-quota"
PROJECT_LABEL = "scs.io/project"
MANAGED_LABEL = "scs.io/managed"


def translate(call: Callable[..., T]) -> Callable[..., T]:
    @functools.wraps(call)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return call(*args, **kwargs)
        except ApiException as exc:
            details = {"status": exc.status, "reason": str(exc.reason)}
            if exc.status in (400, 403, 404, 409, 422):
                raise ClusterRejected(f"the cluster refused: {exc.reason}", details) from exc
            raise ClusterUnavailable(f"the cluster failed: {exc.reason}", details) from exc
        except (HTTPError, OSError) as exc:
            raise ClusterUnavailable(f"the cluster is unreachable: {type(exc).__name__}") from exc

    return wrapper


class Cluster:
    def __init__(self, api: client.ApiClient) -> None:
        self.api = api
        self.core = client.CoreV1Api(api)

    @translate
    def project_namespaces(self, project_id: str) -> list[str]:
        selector = f"{PROJECT_LABEL}={project_id},{MANAGED_LABEL}=true"
        items: list[Any] = self.core.list_namespace(label_selector=selector).items
        return [str(ns.metadata.name) for ns in items if ns.status.phase != "Terminating"]

    @translate
    def put_resource_quota(self, namespace: str, hard: dict[str, str]) -> None:
        """Create or replace the project's ResourceQuota in one namespace."""
        body: Any = {
            "apiVersion": "v1",
            "kind": "ResourceQuota",
            "metadata": {
                "name": QUOTA_NAME,
                "namespace": namespace,
                "labels": {MANAGED_LABEL: "true"},
            },
            "spec": {"hard": hard},
        }
        try:
            self.core.create_namespaced_resource_quota(namespace, body)
        except ApiException as exc:
            if exc.status != 409:
                raise
            self.core.replace_namespaced_resource_quota(QUOTA_NAME, namespace, body)


class KubernetesQuota(ClusterDependency):
    """nameko dependency: `self.kube` is the quota service's `Cluster`, made on first use."""

    def __init__(self) -> None:
        super().__init__(Cluster, ClusterUnavailable)
