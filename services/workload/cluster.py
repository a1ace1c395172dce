"""Cluster access of the workload service: the only module that imports `kubernetes`.

Requests go through the client's configured ApiClient (kubeconfig or in-cluster account) as
plain JSON on the REST paths of each kind, so objects stay the dictionaries tenants wrote.
Every ApiException and connection failure is translated here into the service's errors,
original chained: 404 ObjectNotFound, 409 WorkloadExists, 400/403/422 ClusterRefused
(permanent), 410 WatchExpired, anything else ClusterUnavailable (retryable).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import urllib3
from kubernetes.client import ApiClient, CoreV1Api
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException
from kubernetes.stream import stream as kube_stream
from kubernetes.stream.ws_client import ERROR_CHANNEL
from nameko.extensions import DependencyProvider

from services.workload.exceptions import (
    ClusterConflict,
    ClusterRefused,
    ClusterUnavailable,
    ObjectNotFound,
    WatchExpired,
    WorkloadExists,
)
from shared.kube import api_client, unreachable_reason

logger = logging.getLogger(__name__)

REQUEST_TIMEOUT_SECONDS = 30
CONFLICT_RETRIES = 5
PLURALS: dict[str, str] = {
    "Deployment": "deployments",
    "StatefulSet": "statefulsets",
    "DaemonSet": "daemonsets",
    "Job": "jobs",
    "CronJob": "cronjobs",
    "HorizontalPodAutoscaler": "horizontalpodautoscalers",
    "Pod": "pods",
    "ReplicaSet": "replicasets",
    "ControllerRevision": "controllerrevisions",
    "Namespace": "namespaces",
    "Node": "nodes",
    "ValidatingAdmissionPolicy": "validatingadmissionpolicies",
    "ValidatingAdmissionPolicyBinding": "validatingadmissionpolicybindings",
    "ResourceQuota": "resourcequotas",
    "LimitRange": "limitranges",
}
VERSIONS: dict[str, str] = {
    "Deployment": "apps/v1",
    "StatefulSet": "apps/v1",
    "DaemonSet": "apps/v1",
    "ReplicaSet": "apps/v1",
    "ControllerRevision": "apps/v1",
    "Job": "batch/v1",
    "CronJob": "batch/v1",
    "HorizontalPodAutoscaler": "autoscaling/v2",
    "Pod": "v1",
    "Namespace": "v1",
    "Node": "v1",
    "ResourceQuota": "v1",
    "LimitRange": "v1",
    "ValidatingAdmissionPolicy": "admissionregistration.k8s.io/v1",
    "ValidatingAdmissionPolicyBinding": "admissionregistration.k8s.io/v1",
}
METRICS_PATH = "/apis/metrics.k8s.io/v1beta1"
EXEC_FAILURE_WAIT_SECONDS = 1.0


def resource_path(
    kind: str, namespace: str | None = None, name: str | None = None, version: str | None = None
) -> str:
    version = version or VERSIONS[kind]
    path = "/api/v1" if version == "v1" else f"/apis/{version}"
    if namespace:
        path += f"/namespaces/{namespace}"
    path += f"/{PLURALS[kind]}"
    return f"{path}/{name}" if name else path


class Cluster:
    """The apiserver as seen by the workload service; every method answers plain dicts."""

    def __init__(self, client: ApiClient | None = None) -> None:
        self._client = client

    @property
    def client(self) -> ApiClient:
        if self._client is None:
            try:
                self._client = api_client()
            except (ConfigException, OSError) as exc:
                logger.warning("no usable cluster configuration: %s", exc)
                raise ClusterUnavailable(
                    "the cluster is not reachable (no usable cluster configuration)"
                ) from exc
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    # -- generic object access ---------------------------------------------------------

    def create(self, namespace: str | None, body: dict[str, Any]) -> dict[str, Any]:
        path = resource_path(body["kind"], namespace, version=body.get("apiVersion"))
        return self.request("POST", path, body)

    def get(self, kind: str, namespace: str | None, name: str) -> dict[str, Any]:
        return self.request("GET", resource_path(kind, namespace, name))

    def list_objects(
        self, kind: str, namespace: str | None = None, label_selector: str | None = None
    ) -> dict[str, Any]:
        query = {"labelSelector": label_selector} if label_selector else None
        return self.request("GET", resource_path(kind, namespace), query=query)

    def replace(self, namespace: str | None, body: dict[str, Any]) -> dict[str, Any]:
        path = resource_path(body["kind"], namespace, body["metadata"]["name"])
        return self.request("PUT", path, body)

    def patch(
        self, kind: str, namespace: str | None, name: str, patch: Any, strategy: str = "merge"
    ) -> dict[str, Any]:
        content_type = {
            "merge": "application/merge-patch+json",
            "strategic": "application/strategic-merge-patch+json",
            "json": "application/json-patch+json",
        }[strategy]
        path = resource_path(kind, namespace, name)
        return self.request("PATCH", path, patch, content_type=content_type)

    def delete(
        self, kind: str, namespace: str, name: str, propagation: str = "Foreground"
    ) -> dict[str, Any]:
        body = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": propagation}
        return self.request("DELETE", resource_path(kind, namespace, name), body)

    def update(
        self, kind: str, namespace: str, name: str, mutate: Callable[[dict[str, Any]], None]
    ) -> dict[str, Any]:
        """Read, change with `mutate`, write back; read again when the object moved on."""
        for attempt in range(CONFLICT_RETRIES):
            body = self.get(kind, namespace, name)
            body.pop("status", None)
            body["metadata"].pop("managedFields", None)
            mutate(body)
            try:
                return self.replace(namespace, body)
            except ClusterConflict:
                if attempt == CONFLICT_RETRIES - 1:
                    raise
                logger.debug("%s %s/%s changed meanwhile; retrying", kind, namespace, name)
        raise AssertionError("unreachable")

    def ensure(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create a cluster-scoped object, or replace it when it differs (idempotent)."""
        try:
            return self.create(None, body)
        except WorkloadExists:
            current = self.get(body["kind"], None, body["metadata"]["name"])
        if current.get("spec") == body.get("spec"):
            return current
        replacement = json.loads(json.dumps(body))
        replacement["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        return self.replace(None, replacement)

    # -- pods, logs, metrics ------------------------------------------------------------

    def pod_logs(self, namespace: str, name: str, options: dict[str, Any]) -> str:
        query = {k: v for k, v in options.items() if v is not None}
        path = resource_path("Pod", namespace, name) + "/log"
        return self.request("GET", path, query=query, raw=True)  # type: ignore[return-value]

    def follow_pod_logs(
        self, namespace: str, name: str, options: dict[str, Any], max_seconds: float
    ) -> LogFollow:
        """An open `follow=true` log stream; the caller reads `chunks()` and must `close()`.

        The read timeout is the stream's whole allowance, so a quiet container does not break it.
        """
        query = {k: v for k, v in options.items() if v is not None}
        query["follow"] = "true"
        path = resource_path("Pod", namespace, name) + "/log"
        timeout = (REQUEST_TIMEOUT_SECONDS, max_seconds + REQUEST_TIMEOUT_SECONDS)
        return LogFollow(self._send("GET", path, None, query, None, timeout))

    def open_exec(
        self, namespace: str, pod: str, container: str | None, command: list[str], tty: bool
    ) -> ExecStream:
        """An exec session in a container (stdin, stdout, stderr over the kubelet's WebSocket).

        The client's WebSocket transport swaps the ApiClient's transport while it connects, so
        each session gets an ApiClient of its own rather than sharing the service's.
        """
        own_client = Cluster().client
        try:
            ws = kube_stream(
                CoreV1Api(own_client).connect_get_namespaced_pod_exec,
                pod,
                namespace,
                command=command,
                container=container,
                stdin=True,
                stdout=True,
                stderr=True,
                tty=tty,
                _preload_content=False,
            )
        except ApiException as exc:
            own_client.close()
            raise translate(exc, f"exec in {namespace}/{pod}") from exc
        except Exception as exc:  # websocket handshake refusals (e.g. a node without exec)
            own_client.close()
            logger.warning("exec in %s/%s was not opened: %s", namespace, pod, exc)
            raise ClusterUnavailable(
                f"the node of pod {pod} did not open an exec session ({unreachable_reason(exc)})",
                {"namespace": namespace, "pod": pod},
            ) from exc
        session = ExecStream(ws, own_client)
        # A node that cannot exec (KWOK without ClusterExec, a missing container) accepts the
        # WebSocket and then reports the failure on the error channel: wait for it briefly so
        # that it is refused before the client's upgrade. Output read meanwhile stays buffered.
        failure = session.early_failure(EXEC_FAILURE_WAIT_SECONDS)
        if failure:
            session.close()
            raise ClusterUnavailable(
                f"the node of pod {pod} did not run the command: {failure}",
                {"namespace": namespace, "pod": pod},
            )
        return session

    def pod_metrics(self, namespace: str, label_selector: str | None = None) -> list[dict]:
        query = {"labelSelector": label_selector} if label_selector else None
        path = f"{METRICS_PATH}/namespaces/{namespace}/pods"
        return list(self.request("GET", path, query=query).get("items") or [])

    # -- watches ------------------------------------------------------------------------

    def watch(
        self,
        kind: str,
        resource_version: str | None,
        label_selector: str | None = None,
        timeout_seconds: int = 300,
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """(event type, object) from a watch across namespaces; BOOKMARKs included.

        Raises WatchExpired on 410 Gone (list again), ClusterUnavailable when the stream
        breaks (resume from the last resourceVersion seen).
        """
        query: dict[str, Any] = {
            "watch": "true",
            "allowWatchBookmarks": "true",
            "timeoutSeconds": timeout_seconds,
        }
        if resource_version:
            query["resourceVersion"] = resource_version
        if label_selector:
            query["labelSelector"] = label_selector
        response = self._send("GET", resource_path(kind), None, query, None, timeout_seconds + 30)
        try:
            for line in _lines(response.response):
                event = json.loads(line)
                if event.get("type") == "ERROR":
                    _raise_watch_error(event.get("object") or {})
                yield event["type"], event["object"]
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            logger.warning("the watch on %s broke: %s", kind, exc)
            raise ClusterUnavailable(
                f"the watch on {kind} broke ({unreachable_reason(exc)})"
            ) from exc
        finally:
            response.response.release_conn()

    # -- transport ----------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: dict[str, Any] | None = None,
        content_type: str = "application/json",
        raw: bool = False,
    ) -> Any:
        response = self._send(method, path, body, query, content_type, REQUEST_TIMEOUT_SECONDS)
        data = response.read()
        if raw:
            return data.decode("utf-8", errors="replace")
        return json.loads(data) if data else {}

    def _send(
        self,
        method: str,
        path: str,
        body: Any,
        query: dict[str, Any] | None,
        content_type: str | None,
        timeout: float | tuple[float, float],
    ) -> Any:
        headers = {"Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        try:
            serialized = self.client.param_serialize(
                method,
                path,
                query_params=list((query or {}).items()),
                header_params=headers,
                body=body,
                auth_settings=["BearerToken"],
            )
            response = self.client.call_api(*serialized, _request_timeout=timeout)
        except ApiException as exc:
            raise translate(exc, f"{method} {path}") from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            # The tenant reads the short reason; hosts, ports and paths go to the log only.
            logger.warning("the cluster did not answer %s %s: %s", method, path, exc)
            raise ClusterUnavailable(
                f"the cluster did not answer ({unreachable_reason(exc)})",
                {"reason": unreachable_reason(exc)},
            ) from exc
        if not 200 <= response.status <= 299:
            response.read()
            refusal = ApiException(http_resp=response)
            raise translate(refusal, f"{method} {path}") from refusal
        return response


class LogFollow:
    """A followed container log: raw chunks as the kubelet sends them, until it ends."""

    def __init__(self, response: Any) -> None:
        self._response = response.response

    def chunks(self) -> Iterator[bytes]:
        """Chunks until the stream ends; ClusterUnavailable when it breaks."""
        try:
            for chunk in self._response.stream(amt=65536, decode_content=True):
                if chunk:
                    yield chunk
        except (urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
            logger.warning("a log stream broke: %s", exc)
            raise ClusterUnavailable(f"the log stream broke ({unreachable_reason(exc)})") from exc

    def close(self) -> None:
        """Close the connection (not back to the pool: the stream was not read to its end)."""
        self._response.close()
        self._response.release_conn()


class ExecStream:
    """One exec session: text out (stdout and stderr as they come), text in, exit code."""

    def __init__(self, ws: Any, client: ApiClient) -> None:
        self._ws, self._client = ws, client
        self._exit_status: dict[str, Any] | None = None

    def read(self, timeout: float) -> str:
        """What the container wrote within `timeout` seconds ("" if nothing)."""
        try:
            if self._ws.is_open():
                self._ws.update(timeout=timeout)
            return str(self._ws.read_stdout(timeout=0) or "") + str(
                self._ws.read_stderr(timeout=0) or ""
            )
        except Exception as exc:  # websocket-client's errors carry no common base
            logger.warning("an exec session broke: %s", exc)
            raise ClusterUnavailable(
                f"the exec session broke ({unreachable_reason(exc)})"
            ) from exc

    def write(self, data: str) -> None:
        self._ws.write_stdin(data)

    def is_open(self) -> bool:
        return bool(self._ws.is_open())

    def early_failure(self, wait: float) -> str | None:
        """The failure message if the session ended within `wait` s without running.

        Returns early once the process writes something (it runs) or the status arrives.
        """
        deadline = time.monotonic() + wait
        while self._ws.is_open() and time.monotonic() < deadline:
            if any(self._ws.peek_channel(c) for c in (1, 2, ERROR_CHANNEL)):
                break
            self._ws.update(timeout=deadline - time.monotonic())
        if self._ws.is_open() and not self._ws.peek_channel(ERROR_CHANNEL):
            return None
        status = self._status()
        if status.get("status") == "Success" or status.get("reason") == "NonZeroExitCode":
            return None
        return str(status.get("message") or "the session closed without a status")

    def exit_code(self) -> int | None:
        """0, the process's non-zero code, or None (still running, or it never ran)."""
        if self._ws.is_open():
            return None
        status = self._status()
        if status.get("status") == "Success":
            return 0
        causes = (status.get("details") or {}).get("causes") or [{}]
        try:
            return int(causes[0].get("message"))
        except (TypeError, ValueError):
            return None

    def _status(self) -> dict[str, Any]:
        """The Status on the error channel, read once (reading consumes it)."""
        if self._exit_status is None:
            raw = self._ws.read_channel(ERROR_CHANNEL)
            try:
                loaded = json.loads(raw) if raw else {}
            except ValueError:
                loaded = {}
            self._exit_status = loaded if isinstance(loaded, dict) else {}
        return self._exit_status

    def close(self) -> None:
        try:
            self._ws.close()
        finally:
            self._client.close()


def translate(exc: ApiException, what: str) -> Exception:
    """An ApiException as the service's own error (the caller chains the original)."""
    status, message, details = _status_of(exc)
    if status == 404:
        return ObjectNotFound(message or f"not found: {what}", details)
    if status == 409 and details.get("reason") == "AlreadyExists":
        return WorkloadExists(message or f"already exists: {what}", details)
    if status == 409:
        return ClusterConflict(message or f"conflict: {what}", details)
    if status == 410:
        return WatchExpired(message or "resourceVersion too old", details)
    if status in (400, 403, 422):
        return ClusterRefused(message or f"the cluster refused {what}", details)
    return ClusterUnavailable(message or f"the cluster failed {what} ({status})", details)


def _status_of(exc: ApiException) -> tuple[int, str, dict[str, Any]]:
    status = int(exc.status or 0)
    try:
        body = json.loads(exc.body) if exc.body else {}
    except (ValueError, TypeError):
        body = {}
    if not isinstance(body, dict):
        body = {}
    causes = (body.get("details") or {}).get("causes") or []
    details: dict[str, Any] = {"status": status, "reason": body.get("reason")}
    fields = [c.get("field") for c in causes if isinstance(c, dict) and c.get("field")]
    if fields:
        details["field"] = fields[0]
        details["fields"] = fields
    return status, str(body.get("message") or exc.reason or ""), details


def _raise_watch_error(status: dict[str, Any]) -> None:
    code = status.get("code")
    message = str(status.get("message") or "watch error")
    if code == 410:
        raise WatchExpired(message, {"status": 410})
    raise ClusterUnavailable(message, {"status": code})


def _lines(response: Any) -> Iterator[bytes]:
    pending = b""
    for chunk in response.stream(amt=65536, decode_content=True):
        pending += chunk
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            if line.strip():
                yield line
    if pending.strip():
        yield pending


class ClusterProvider(DependencyProvider):
    """nameko dependency: `self.cluster` in entrypoints; one client per service container."""

    def setup(self) -> None:
        self.cluster = Cluster()

    def stop(self) -> None:
        self.cluster.close()

    def get_dependency(self, worker_ctx: Any) -> Cluster:
        return self.cluster
