"""The Kubernetes client factory: a kubeconfig file, or the in-cluster service account.

Only a service's cluster-access module calls this; the rest of a service never imports
`kubernetes` (the import-linter contract in pyproject.toml keeps it so).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import eventlet
import pydantic
import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException, ApiTypeError, ApiValueError
from kubernetes.config import ConfigException
from nameko.extensions import DependencyProvider

from shared.config import kubeconfig_path

logger = logging.getLogger(__name__)

T = TypeVar("T")

# What the Kubernetes client refuses itself, before sending: the caller's input is wrong.
CLIENT_INPUT_ERRORS = (pydantic.ValidationError, ApiValueError, ApiTypeError)


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


def api_field(exc: ApiException) -> str | None:
    """The first field the apiserver's Status names (details.causes[].field), if any."""
    try:
        body = json.loads(exc.body or "{}")
        causes = (body.get("details") or {}).get("causes") or []
        fields = [c["field"] for c in causes if isinstance(c, dict) and c.get("field")]
    except (ValueError, AttributeError, TypeError):
        return None
    return str(fields[0]) if fields else None


def client_refusal(exc: Exception) -> tuple[str | None, str]:
    """The field (a JSON path, when the client names one) and reason of a client-side refusal."""
    if isinstance(exc, pydantic.ValidationError) and exc.errors():
        first = exc.errors()[0]
        return _json_path(first.get("loc") or ()), str(first.get("msg") or "invalid")
    return None, str(exc)


def _json_path(loc: tuple[Any, ...]) -> str | None:
    # pydantic's location starts with the argument (its position, or "body").
    steps = list(loc[1:]) if loc and (isinstance(loc[0], int) or loc[0] == "body") else list(loc)
    path = ""
    for step in steps:
        path += f"[{step}]" if isinstance(step, int) else f".{step}" if path else str(step)
    return path or None


def unreachable_reason(exc: BaseException) -> str:
    """A short reason a tenant may read (no host, port or URL) for a failed connection."""
    for cause in _causes(exc):
        if isinstance(cause, ConnectionRefusedError) or "Connection refused" in str(cause):
            return "connection refused"
    for cause in _causes(exc):
        if isinstance(cause, TimeoutError | socket.timeout | urllib3.exceptions.TimeoutError):
            return "timed out"
        if isinstance(cause, ssl.SSLError | urllib3.exceptions.SSLError):
            return "TLS handshake failed"
        if isinstance(cause, socket.gaierror | urllib3.exceptions.NameResolutionError):
            return "cluster address not resolved"
        if isinstance(cause, ConnectionResetError | urllib3.exceptions.ProtocolError):
            return "connection broken"
        if isinstance(cause, ConfigException):
            return "no usable cluster configuration"
    if isinstance(exc, ValueError):
        return "unreadable answer"
    return "unreachable"


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception, what it wraps (urllib3's `reason`) and its chain, each once."""
    seen: set[int] = set()
    pending: list[Any] = [exc]
    while pending:
        current = pending.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending.extend([getattr(current, "reason", None), current.__cause__, current.__context__])


def call_cluster(call: Callable[[], T], what: str, errors: ClusterErrors, seconds: float) -> T:
    """Run one API call; translate its failure into the service's errors, original chained.

    404 -> not_found, 409 -> exists; 400/422 from the apiserver and the client's own
    validation of the input (pydantic, ApiValueError, ApiTypeError) -> refused (permanent,
    naming the field when known); a timeout, 5xx, 429 or a connection failure -> unavailable
    (retrying may help), its technical detail logged, not answered.
    """
    try:
        with eventlet.Timeout(seconds):
            return call()
    except eventlet.Timeout as exc:
        logger.warning("the cluster did not answer %s within %.0f s", what, seconds)
        raise errors.unavailable(
            f"the cluster did not answer (timed out after {seconds:.0f} s)",
            {"object": what, "reason": "timed out"},
        ) from exc
    except ApiException as exc:
        raise _translated(exc, what, errors) from exc
    except CLIENT_INPUT_ERRORS as exc:
        field, reason = client_refusal(exc)
        details = {"object": what, "reason": reason, **({"field": field} if field else {})}
        where = f"{field}: " if field else ""
        raise errors.refused(f"{what}: {where}{reason}", details) from exc
    except (OSError, ValueError, ConfigException, urllib3.exceptions.HTTPError) as exc:
        reason = unreachable_reason(exc)
        logger.warning("the cluster did not answer %s: %s", what, exc)
        raise errors.unavailable(
            f"the cluster did not answer ({reason})", {"object": what, "reason": reason}
        ) from exc


def _translated(exc: ApiException, what: str, errors: ClusterErrors) -> Exception:
    details: dict[str, Any] = {"object": what, "status": exc.status, "reason": api_reason(exc)}
    if exc.status == 404:
        return errors.not_found(f"{what} not found", details)
    if exc.status == 409:
        return errors.exists(f"{what}: {details['reason']}", details)
    if exc.status in (400, 422):
        field = api_field(exc)
        if field:
            details["field"] = field
        return errors.refused(f"the cluster refused {what}: {details['reason']}", details)
    logger.warning("the cluster failed on %s: HTTP %s %s", what, exc.status, details["reason"])
    return errors.unavailable(
        f"the cluster could not serve the request (HTTP {exc.status})",
        {"object": what, "status": exc.status},
    )


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
                logger.warning("no usable kubeconfig: %s: %s", type(exc).__name__, exc)
                raise self._unavailable(
                    "the cluster is not reachable (no usable cluster configuration)", {}
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
