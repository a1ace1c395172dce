"""The Kubernetes client factory: a kubeconfig file, or the in-cluster service account.

Only a service's cluster-access module calls this; the rest of a service never imports
`kubernetes` (the import-linter contract in pyproject.toml keeps it so).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import eventlet
import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config import ConfigException
from nameko.extensions import DependencyProvider

from shared.config import kubeconfig_path

T = TypeVar("T")


def api_client() -> client.ApiClient:
    """An ApiClient for the configured cluster.

    In a pod (KUBERNETES_SERVICE_HOST set and no kubeconfig given) the service account is
    used; otherwise the kubeconfig from KUBECONFIG, SCS_KUBECONFIG or the local control plane.
    """
    explicit = os.environ.get("KUBECONFIG") or os.environ.get("SCS_KUBECONFIG")
    if os.environ.get("KUBERNETES_SERVICE_HOST") and not explicit:
        configuration = client.Configuration()
        config.load_incluster_config(client_configuration=configuration)
        return client.ApiClient(configuration)
    return config.new_client_from_config(config_file=str(kubeconfig_path()))


@dataclass(frozen=True)
class ClusterErrors:
    """A service's own error types for what the Kubernetes API answers."""

    not_found: type[Exception]
    exists: type[Exception]
    refused: type[Exception]
    unavailable: type[Exception]


def api_reason(exc: ApiException) -> str:
    """The apiserver's own message (from the Status body), else the HTTP reason."""
    try:
        return str(json.loads(exc.body or "{}").get("message") or exc.reason)
    except ValueError:
        return str(exc.reason)


def call_cluster(call: Callable[[], T], what: str, errors: ClusterErrors, seconds: float) -> T:
    """Run one API call; translate its failure into the service's errors, original chained.

    404 -> not_found, 409 -> exists, 400/422 -> refused (permanent); a timeout, 5xx, 429 or a
    connection failure -> unavailable (retrying may help).
    """
    try:
        with eventlet.Timeout(seconds):
            return call()
    except eventlet.Timeout as exc:
        raise errors.unavailable(
            f"the cluster did not answer on {what} within {seconds:.0f} s", {"object": what}
        ) from exc
    except ApiException as exc:
        details = {"object": what, "status": exc.status, "reason": api_reason(exc)}
        if exc.status == 404:
            raise errors.not_found(f"{what} not found", details) from exc
        if exc.status == 409:
            raise errors.exists(f"{what}: {details['reason']}", details) from exc
        if exc.status in (400, 422):
            raise errors.refused(
                f"the cluster refused {what}: {details['reason']}", details
            ) from exc
        raise errors.unavailable(f"the cluster failed on {what}", details) from exc
    except (OSError, ValueError, ConfigException, urllib3.exceptions.HTTPError) as exc:
        raise errors.unavailable(
            f"the cluster did not answer on {what}", {"object": what}
        ) from exc


class LazyCluster:
    """A service's cluster-access object, made on first use.

    The service starts (and answers `health`) while the cluster is unreachable or its
    kubeconfig is still being written; the first call then raises the service's own
    `unavailable` error instead.
    """

    def __init__(self, make: Callable[[client.ApiClient], Any], unavailable: type[Exception]):
        self._make = make
        self._unavailable = unavailable
        self._cluster: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._cluster is None:
            try:
                self._cluster = self._make(api_client())
            except Exception as exc:  # a missing or broken kubeconfig
                raise self._unavailable(
                    f"no usable kubeconfig: {type(exc).__name__}: {exc}", {}
                ) from exc
        return getattr(self._cluster, name)

    def close(self) -> None:
        if self._cluster is not None:
            self._cluster.api.close()
            self._cluster = None


class ClusterDependency(DependencyProvider):
    """nameko dependency: `self.kube` is a LazyCluster of the service's cluster module."""

    def __init__(self, make: Callable[[client.ApiClient], Any], unavailable: type[Exception]):
        self.make = make
        self.unavailable = unavailable

    def setup(self) -> None:
        self.cluster = LazyCluster(self.make, self.unavailable)

    def get_dependency(self, worker_ctx: Any) -> Any:
        return self.cluster

    def stop(self) -> None:
        self.cluster.close()
