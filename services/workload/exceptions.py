"""Errors of the workload service; each is registered so RPC callers receive it typed.

ScsError carries the details as JSON, the code and the HTTP status across RPC, so a process
that does not import this module (the gateway) still answers with the right code and status.
"""

from __future__ import annotations

from shared.errors import (
    Conflict,
    Forbidden,
    NotFound,
    ScsError,
    Unavailable,
    Unprocessable,
    ValidationFailed,
    registered,
)


@registered
class WorkloadError(ScsError):
    """Base of the workload service's errors (serialised by ScsError: details, code, status)."""


@registered
class InvalidManifest(WorkloadError, ValidationFailed):
    """The YAML/JSON could not be read, or a document is not a Kubernetes object."""

    code = "invalid_manifest"


@registered
class UnsupportedKind(WorkloadError, Unprocessable):
    code = "unsupported_kind"


@registered
class ApiVersionRemoved(WorkloadError, Unprocessable):
    """details: {"field": "apiVersion", "document": i, "version": old, "use": new}."""

    code = "api_version_removed"


@registered
class IsolationViolation(WorkloadError, Unprocessable):
    """details: {"field": "spec.template.spec.volumes[0].hostPath", "rule": ..., "violations"}."""

    code = "isolation_violation"


@registered
class OwnerUnavailable(WorkloadError, Unavailable):
    """A companion object's owning service is not running; nothing was applied."""

    code = "owner_unavailable"


@registered
class NamespaceNotInProject(WorkloadError, Forbidden):
    code = "namespace_not_in_project"


@registered
class WorkloadNotFound(WorkloadError, NotFound):
    code = "workload_not_found"


@registered
class PodNotFound(WorkloadError, NotFound):
    code = "pod_not_found"


@registered
class RevisionNotFound(WorkloadError, NotFound):
    code = "revision_not_found"


@registered
class WorkloadExists(WorkloadError, Conflict):
    code = "workload_exists"


@registered
class InvalidOperation(WorkloadError, Unprocessable):
    """The action does not apply to this kind or state (e.g. scaling a DaemonSet)."""

    code = "invalid_operation"


@registered
class ClusterRefused(WorkloadError, Unprocessable):
    """The apiserver refused the object (validation or admission); permanent."""

    code = "cluster_refused"


@registered
class ClusterUnavailable(WorkloadError, Unavailable):
    """The apiserver did not answer or answered 5xx; retrying may help."""

    code = "cluster_unavailable"


@registered
class WatchExpired(WorkloadError):
    """A watch's resourceVersion is too old (410 Gone); the watcher lists again."""

    code = "watch_expired"


@registered
class ObjectNotFound(WorkloadError, NotFound):
    """The cluster has no such object (404 from the apiserver)."""

    code = "object_not_found"


@registered
class QuotaRefused(WorkloadError, Unprocessable):
    """The project's quota cannot pay for the pods; details name each resource over limit."""

    code = "quota_exceeded"


@registered
class LogsUnavailable(WorkloadError, Unavailable):
    """The node's kubelet serves no logs for this pod (e.g. KWOK without a logs config)."""

    code = "logs_unavailable"


@registered
class ClusterConflict(WorkloadError, Conflict):
    """The object changed in the cluster while this change was made; retrying may help."""

    code = "cluster_conflict"


@registered
class GpuPlacementRefused(WorkloadError, Unprocessable):
    """The gpu service found no supported GPU for the request (its reason in details)."""

    code = "gpu_placement_refused"


@registered
class TargetPortNotDeclared(WorkloadError, Unprocessable):
    """A Service port targets a port no container of the workload declares.

    details: {"field": "service.ports[0].target_port", "target_port", "protocol", "declared"}.
    """

    code = "target_port_not_declared"


@registered
class NetworkNameTaken(WorkloadError, Conflict):
    """A Service or Ingress named after the workload exists and is not the workload's own.

    details: {"field": "service" or "ingress", "kind", "namespace", "name"}.
    """

    code = "network_object_exists"
