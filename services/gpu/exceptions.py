"""Errors of the gpu service; each is registered so RPC callers receive it typed.

Refusals of a placement are 422 (`Unprocessable`) with a stable code and details that say
why and what would fit; shared.errors.ScsError keeps the details' JSON types, the code and
the status across RPC.
"""

from __future__ import annotations

from shared.errors import ScsError, Unavailable, Unprocessable, registered


@registered
class GpuError(ScsError):
    """Base of the gpu service's errors (ScsError carries the details as JSON across RPC)."""


@registered
class GpuModelUnsupported(GpuError, Unprocessable):
    """The model is not in the driver 450.80.02 support list (details: model, supported)."""

    code = "gpu_model_unsupported"


@registered
class GpuArchitectureUnsupported(GpuError, Unprocessable):
    """The request names an Arm node or architecture; GPUs are used on amd64 only."""

    code = "gpu_architecture_unsupported"


@registered
class CudaVersionUnsupported(GpuError, Unprocessable):
    """The workload needs a newer CUDA than the platform driver offers (details: required,
    max_supported, source)."""

    code = "cuda_version_unsupported"


@registered
class GpusInsufficient(GpuError, Unprocessable):
    """No single node has enough free devices (details: requested, model, free)."""

    code = "gpus_insufficient"


@registered
class GpuNodeUnknown(GpuError, Unprocessable):
    """The request names a node that has no GPUs or does not exist."""

    code = "gpu_node_unknown"


@registered
class InventoryNotReady(GpuError, Unavailable):
    """The inventory has not completed its first listing of the cluster; retry shortly."""

    code = "gpu_inventory_not_ready"


@registered
class ClusterUnavailable(GpuError, Unavailable):
    """The Kubernetes API did not answer or answered 5xx/429; retrying may help."""

    code = "cluster_unavailable"


@registered
class ClusterRefused(GpuError, Unprocessable):
    """The Kubernetes API refused the request for good (4xx other than 409/429)."""

    code = "cluster_refused"


class WatchExpired(Exception):
    """A watch's resourceVersion is too old (410 Gone): list again. Internal only."""
