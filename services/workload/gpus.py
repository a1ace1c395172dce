"""GPU placement for workloads that ask for `nvidia.com/gpu`, decided by the gpu service.

The gpu service knows the inventory and the compatibility matrix (driver, models, CUDA,
architecture); it answers a node selector that pins a supported product with free devices.
This module merges that selector into the pod template before the workload is created, so the
scheduler can only choose among the nodes the gpu service named.
"""

from __future__ import annotations

import logging
from typing import Any

from nameko.exceptions import RemoteError, UnknownService

from services.workload.exceptions import GpuPlacementRefused, OwnerUnavailable
from services.workload.manifests import Document, dig, ensure_pod_spec, pod_template_path

logger = logging.getLogger(__name__)


def place(gpu: Any, project_id: str, doc: Document, actor: str) -> dict[str, Any]:
    """Ask the gpu service for a placement and pin the template to it; returns the placement."""
    template = dig(doc.body, pod_template_path(doc.kind)) or {}
    try:
        if gpu is None:
            raise UnknownService("gpu")
        placement = gpu.place_template(project_id, template, actor)
    except UnknownService as exc:
        raise OwnerUnavailable(
            f"document {doc.index}: {doc.name} asks for GPUs and the gpu service, which places "
            "them, is not running; nothing was applied",
            {"document": doc.index, "kind": doc.kind, "owner": "gpu"},
        ) from exc
    except RemoteError as exc:
        raise GpuPlacementRefused(
            f"document {doc.index}: {exc.value}", {"document": doc.index, "reason": exc.exc_type}
        ) from exc
    selector = ensure_pod_spec(doc.body).setdefault("nodeSelector", {})
    selector.update(placement.get("node_selector") or {})
    logger.info("placed %s %s on GPU product %s", doc.kind, doc.name, placement.get("product"))
    return placement  # type: ignore[no-any-return]
