"""Reads a GPU request out of a pod template, for workloads submitted as YAML.

The workload service passes the pod template (`spec.template` of a Deployment, Job, ...; the
JSON form, camelCase keys) of a workload that asks for `nvidia.com/gpu`; this module turns it
into the placement request of schemas.py:

- count: the sum of the containers' `nvidia.com/gpu` limits (requests when no limit is set);
- model: the annotation `gpu.scs.io/model`, else the template's own
  `nodeSelector["nvidia.com/gpu.product"]`, else any supported model;
- arch and node: the template's `nodeSelector["kubernetes.io/arch"]`, `nodeName` or
  `nodeSelector["kubernetes.io/hostname"]`;
- CUDA: the annotation `gpu.scs.io/cuda-version` and each container's env (placement.py).
"""

from __future__ import annotations

from typing import Any

from services.gpu import matrix
from shared.errors import ValidationFailed

MODEL_ANNOTATION = "gpu.scs.io/model"


def _devices(container: dict[str, Any], index: int) -> int:
    resources = container.get("resources") or {}
    raw = (resources.get("limits") or {}).get(matrix.GPU_RESOURCE)
    if raw is None:
        raw = (resources.get("requests") or {}).get(matrix.GPU_RESOURCE)
    if raw is None:
        return 0
    try:
        count = int(str(raw))
    except ValueError:
        count = -1
    if count < 0:
        field = f"spec.containers.{index}.resources.limits.{matrix.GPU_RESOURCE}"
        raise ValidationFailed(
            f"{matrix.GPU_RESOURCE} must be a whole number of devices, got {raw!r}",
            {"location": "payload", "fields": {field: ["must be a whole number"]}},
        )
    return count


def request_from_template(template: dict[str, Any]) -> dict[str, Any]:
    """The placement request a pod template states (not yet validated by the schema)."""
    metadata = template.get("metadata") or {}
    spec = template.get("spec") or {}
    containers = spec.get("containers") or []
    annotations = metadata.get("annotations") or {}
    selector = spec.get("nodeSelector") or {}
    request: dict[str, Any] = {
        "count": sum(_devices(c, i) for i, c in enumerate(containers)),
        "model": annotations.get(MODEL_ANNOTATION) or selector.get(matrix.PRODUCT_LABEL),
        "arch": selector.get(matrix.ARCH_LABEL),
        "node_name": spec.get("nodeName") or selector.get(matrix.HOSTNAME_LABEL),
        "annotations": {k: str(v) for k, v in annotations.items()} or None,
        "containers": [
            {
                "name": c.get("name"),
                "env": [
                    {"name": e.get("name"), "value": e.get("value")}
                    for e in c.get("env") or []
                    if isinstance(e, dict) and "value" in e
                ],
            }
            for c in containers
        ],
    }
    return {key: value for key, value in request.items() if value is not None}
