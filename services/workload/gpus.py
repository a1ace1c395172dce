"""GPU placement for workloads that ask for `nvidia.com/gpu`, decided by the gpu service.

The gpu service knows the inventory and the compatibility matrix (driver, models, CUDA,
architecture); it answers a node selector that pins a supported product with free devices.
This module merges that selector into the pod template before the workload is created, so the
scheduler can only choose among the nodes the gpu service named.

The gpu service reads architecture, product and node from the template's nodeSelector. A
required node affinity that pins one of them to a single value (arch: to values without
amd64) is passed on as that nodeSelector in the copy the gpu service reads, so an Arm-only or
unsupported-model affinity is refused (422, the affinity expression named in details.field)
instead of creating pods no node can take.

Every later change of the pod template runs the same check before anything changes in the
cluster (`replace`: container updates, scheduling policy, YAML edits, rollbacks), when the
template asks for GPUs and what the placement reads from it (GPU counts, nodeSelector,
nodeName, node affinity, the gpu.scs.io annotations, CUDA env) differs from the template it
replaces. A changed scheduling policy thus gets the product pin again, or the gpu service's
refusal, as a create would.
"""

from __future__ import annotations

import logging
from typing import Any

from nameko.exceptions import RemoteError, UnknownService

from services.workload.exceptions import GpuPlacementRefused, OwnerUnavailable
from services.workload.manifests import (
    WORKLOAD,
    Document,
    dig,
    ensure_pod_spec,
    pod_spec_path,
    pod_template_path,
)
from services.workload.quota_usage import GPU_RESOURCE, pod_cost
from shared.errors import ScsError

logger = logging.getLogger(__name__)

ARCH_LABEL = "kubernetes.io/arch"
PRODUCT_LABEL = "nvidia.com/gpu.product"
HOSTNAME_LABEL = "kubernetes.io/hostname"
GPU_ARCH = "amd64"
GPU_ANNOTATIONS = "gpu.scs.io/"  # model, cuda-version: read by the gpu service
CUDA_ENV = ("NVIDIA_REQUIRE_CUDA", "CUDA_VERSION")
# the gpu service's details.field of a refusal -> the node label it is about
REFUSED_FIELD_LABELS = {"arch": ARCH_LABEL, "model": PRODUCT_LABEL, "node_name": HOSTNAME_LABEL}
REQUIRED_TERMS = (
    "affinity",
    "nodeAffinity",
    "requiredDuringSchedulingIgnoredDuringExecution",
    "nodeSelectorTerms",
)


def place(gpu: Any, project_id: str, doc: Document, actor: str) -> dict[str, Any]:
    """Ask the gpu service for a placement and pin the template to it; returns the placement."""
    template = dig(doc.body, pod_template_path(doc.kind)) or {}
    pins = affinity_pins(template, ".".join(pod_spec_path(doc.kind)))
    try:
        if gpu is None:
            raise UnknownService("gpu")
        placement = gpu.place_template(project_id, with_pins(template, pins), actor)
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
    except ScsError as exc:
        _refuse_pinned(exc, pins, doc)
        raise
    selector = ensure_pod_spec(doc.body).setdefault("nodeSelector", {})
    selector.update(placement.get("node_selector") or {})
    logger.info("placed %s %s on GPU product %s", doc.kind, doc.name, placement.get("product"))
    return placement  # type: ignore[no-any-return]


def replace(
    gpu: Any,
    project_id: str,
    body: dict[str, Any],
    before: dict[str, Any] | None,
    actor: str,
) -> dict[str, Any] | None:
    """The placement check of a create for a workload whose pod template changes.

    `body` is the changed object, `before` the pod template it replaces (None: unknown). Runs
    `place` (pinning the template, or raising its refusals) when the template asks for GPUs
    and its placement inputs differ from `before`'s; otherwise asks nothing and returns None.
    """
    kind = str(body.get("kind"))
    template = dig(body, pod_template_path(kind))
    if not isinstance(template, dict) or not pod_cost(body).gpu:
        return None
    if isinstance(before, dict) and placement_inputs(before) == placement_inputs(template):
        return None
    return place(gpu, project_id, Document(0, WORKLOAD, body), actor)


def placement_inputs(template: dict[str, Any]) -> dict[str, Any]:
    """What a placement reads from a pod template (the gpu service's templates.py, and the
    required node affinity read here), in a form that compares equal when unchanged."""
    spec = _dict(template.get("spec"))
    annotations = _dict(_dict(template.get("metadata")).get("annotations"))
    containers = [c for c in spec.get("containers") or [] if isinstance(c, dict)]
    return {
        "devices": [_devices(c) for c in containers],
        "cuda_env": [
            [
                (str(e.get("name")), str(e.get("value")))
                for e in c.get("env") or []
                if isinstance(e, dict) and e.get("name") in CUDA_ENV
            ]
            for c in containers
        ],
        "annotations": {
            str(k): str(v) for k, v in annotations.items() if str(k).startswith(GPU_ANNOTATIONS)
        },
        "node_selector": {str(k): str(v) for k, v in _dict(spec.get("nodeSelector")).items()},
        "node_name": spec.get("nodeName") or None,
        "node_affinity": _dict(spec.get("affinity")).get("nodeAffinity") or None,
    }


def _devices(container: dict[str, Any]) -> tuple[str | None, ...]:
    resources = _dict(container.get("resources"))
    values = (_dict(resources.get(part)).get(GPU_RESOURCE) for part in ("limits", "requests"))
    return tuple(None if value is None else str(value) for value in values)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def affinity_pins(template: dict[str, Any], prefix: str) -> dict[str, tuple[str, str]]:
    """Node labels the required node affinity pins: label -> (value, field path).

    Only a single selector term counts (several are alternatives); arch is pinned when no
    value is amd64, product and hostname when exactly one value is allowed.
    """
    terms = dig(template.get("spec") or {}, REQUIRED_TERMS) or []
    if len(terms) != 1 or not isinstance(terms[0], dict):
        return {}
    where = f"{prefix}.{'.'.join(REQUIRED_TERMS)}[0].matchExpressions"
    pins: dict[str, tuple[str, str]] = {}
    for j, expression in enumerate(terms[0].get("matchExpressions") or []):
        key, values = expression.get("key"), list(expression.get("values") or [])
        if expression.get("operator") != "In" or not values:
            continue
        pinned = key == ARCH_LABEL and GPU_ARCH not in values
        pinned = pinned or (key in (PRODUCT_LABEL, HOSTNAME_LABEL) and len(set(values)) == 1)
        if pinned:
            pins[str(key)] = (str(values[0]), f"{where}[{j}]")
    return pins


def with_pins(template: dict[str, Any], pins: dict[str, tuple[str, str]]) -> dict[str, Any]:
    """A copy of the template whose nodeSelector also states the pinned labels."""
    if not pins:
        return template
    spec = dict(template.get("spec") or {})
    selector = dict(spec.get("nodeSelector") or {})
    for label, (value, _field) in pins.items():
        selector.setdefault(label, value)
    spec["nodeSelector"] = selector
    return {**template, "spec": spec}


def _refuse_pinned(exc: ScsError, pins: dict[str, tuple[str, str]], doc: Document) -> None:
    label = REFUSED_FIELD_LABELS.get(str(exc.details.get("field")))
    if label not in pins or exc.http_status >= 500 or exc.code == "gpu_inventory_not_ready":
        return
    value, field = pins[label]
    raise GpuPlacementRefused(
        f"document {doc.index}: {field} ({label} In [{value}]): {exc.message}",
        {"document": doc.index, "field": field, "reason": exc.code, "label": label},
    ) from exc
