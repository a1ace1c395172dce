"""Placement of a GPU request ("N x model" or "N x any supported") onto the inventory.

A decision either names the product label and node selector that put the pod where N devices
of a supported model are free on one node, with the `nvidia.com/gpu` limits to set and the
quota to reserve, or refuses with a typed error saying why (exceptions.py). Checks run in this
order, so the first reason given is the most basic one: architecture, node, model, CUDA,
free devices.

The CUDA a workload needs is the highest of: the request's `cuda_version`, the pod template's
annotation `gpu.scs.io/cuda-version`, and each container's `NVIDIA_REQUIRE_CUDA` (its
`cuda>=` bounds) or `CUDA_VERSION` env.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.gpu import matrix
from services.gpu.exceptions import (
    CudaVersionUnsupported,
    GpuArchitectureUnsupported,
    GpuModelUnsupported,
    GpuNodeUnknown,
    GpusInsufficient,
    InventoryNotReady,
)
from services.gpu.inventory import Inventory
from shared.errors import ValidationFailed

CUDA_ENV = ("NVIDIA_REQUIRE_CUDA", "CUDA_VERSION")


@dataclass(frozen=True)
class CudaNeed:
    version: tuple[int, int]
    source: str


def cuda_need(request: dict[str, Any]) -> CudaNeed | None:
    """The highest CUDA version the request states anywhere, with where it was stated."""
    stated: list[tuple[str, str, str]] = []  # (text, source, field path)
    if request.get("cuda_version"):
        stated.append((request["cuda_version"], "request field cuda_version", "cuda_version"))
    annotation = (request.get("annotations") or {}).get(matrix.CUDA_ANNOTATION)
    if annotation:
        path = f"annotations.{matrix.CUDA_ANNOTATION}"
        stated.append((annotation, f"annotation {matrix.CUDA_ANNOTATION}", path))
    for index, container in enumerate(request.get("containers") or []):
        for var in container.get("env") or []:
            if var.get("name") in CUDA_ENV and var.get("value"):
                source = f"env {var['name']} of container {container.get('name', index)}"
                stated.append((var["value"], source, f"containers.{index}.env.{var['name']}"))

    best: CudaNeed | None = None
    for text, source, path in stated:
        try:
            version = matrix.parse_cuda(text)
        except ValueError as exc:
            raise ValidationFailed(
                f"{source}: {exc}", {"location": "payload", "fields": {path: [str(exc)]}}
            ) from exc
        if best is None or version > best.version:
            best = CudaNeed(version, source)
    return best


def _check_arch_and_node(inventory: Inventory, request: dict[str, Any]) -> str | None:
    """Refuses Arm; returns the product label a named node pins the request to."""
    arch = request.get("arch")
    if arch and not matrix.is_supported_arch(arch):
        raise GpuArchitectureUnsupported(
            f"GPUs on {arch} nodes are not used by the platform; only {matrix.GPU_ARCH}",
            {"field": "arch", "arch": arch, "supported": [matrix.GPU_ARCH]},
        )
    name = request.get("node_name")
    if not name:
        return None
    node = inventory.nodes.get(name)
    if node is None:
        raise GpuNodeUnknown(f"node {name} has no GPUs or does not exist", {"node": name})
    if not matrix.is_supported_arch(node.facts.arch):
        raise GpuArchitectureUnsupported(
            f"node {name} is {node.facts.arch}: GPUs on Arm nodes are not used by the platform",
            {"field": "node_name", "node": name, "arch": node.facts.arch},
        )
    if not node.supported:
        _refuse_model(node.model or "unknown", "node_name")
    return node.facts.product


def _refuse_model(model: str, field: str) -> None:
    raise GpuModelUnsupported(
        f"GPU model {model} is not supported by the platform driver {matrix.DRIVER_VERSION}",
        {
            "field": field,
            "model": model,
            "driver_version": matrix.DRIVER_VERSION,
            "supported": list(matrix.SUPPORTED_MODELS),
        },
    )


def requested_model(request: dict[str, Any]) -> str | None:
    """The model id asked for, None for any supported model; refuses an unsupported one."""
    name = request.get("model")
    if not name or name.strip().lower() == matrix.ANY:
        return None
    info = matrix.model_of(name)
    if not info.supported:
        _refuse_model(info.model, "model")
    return info.model


def _check_cuda(request: dict[str, Any]) -> CudaNeed | None:
    need = cuda_need(request)
    if need is not None and not matrix.cuda_supported(need.version):
        raise CudaVersionUnsupported(
            f"the workload needs CUDA {matrix.cuda_text(need.version)} ({need.source}); the "
            f"platform driver {matrix.DRIVER_VERSION} supports CUDA "
            f"{matrix.cuda_text(matrix.MAX_CUDA)} and below",
            {
                "required": matrix.cuda_text(need.version),
                "source": need.source,
                "max_supported": matrix.cuda_text(matrix.MAX_CUDA),
                "driver_version": matrix.DRIVER_VERSION,
            },
        )
    return need


def _choose(
    inventory: Inventory, products: list[str], count: int, node_name: str | None
) -> tuple[str, str, int] | None:
    """(product, node, free) with the best fit over the candidate products."""
    if node_name:
        node = inventory.nodes[node_name]
        return (
            (node.facts.product or "", node_name, node.free)
            if node.placeable and (node.free >= count)
            else None
        )
    best: tuple[str, str, int] | None = None
    for product in products:
        fit = inventory.best_fit(product, count)
        if fit is not None and (best is None or (fit[1], fit[0]) < (best[2], best[1])):
            best = (product, fit[0], fit[1])
    return best


def decide(inventory: Inventory, request: dict[str, Any]) -> dict[str, Any]:
    """The placement of one validated request, or a typed refusal."""
    if not inventory.synced:
        raise InventoryNotReady("the GPU inventory has not listed the cluster yet; retry")
    count: int = request["count"]
    pinned_product = _check_arch_and_node(inventory, request)
    model = requested_model(request)
    if pinned_product and model and matrix.model_of(pinned_product).model != model:
        raise GpusInsufficient(
            f"node {request['node_name']} has {pinned_product}, not {model}",
            {"requested": count, "model": model, "free": inventory.free_by_node(model)},
        )
    need = _check_cuda(request)

    products = (
        [pinned_product]
        if pinned_product
        else inventory.products_of(model)
        if model
        else inventory.placeable_products()
    )
    choice = _choose(inventory, products, count, request.get("node_name"))
    if choice is None:
        raise _capacity_refusal(inventory, count, model, request.get("node_name"))
    product, node, _free = choice
    return _placement(inventory, request, product, node, need)


def _capacity_refusal(
    inventory: Inventory, count: int, model: str | None, node_name: str | None
) -> GpusInsufficient:
    wanted = f"{count} x {model or 'any supported GPU'}"
    free = inventory.free_by_node(model)
    where = ", ".join(f"{n}: {v['free']} {v['model']}" for n, v in list(free.items())[:10])
    place = f"node {node_name} does not have" if node_name else "no single node has"
    return GpusInsufficient(
        f"{place} {wanted} free; free now: {where or 'none'}",
        {"requested": count, "model": model or matrix.ANY, "free": free},
    )


def _selector(product: str, node_name: str | None) -> dict[str, str]:
    selector = {matrix.PRODUCT_LABEL: product, matrix.ARCH_LABEL: matrix.GPU_ARCH}
    if node_name:
        selector[matrix.HOSTNAME_LABEL] = node_name  # the caller asked for this node
    return selector


def _placement(
    inventory: Inventory,
    request: dict[str, Any],
    product: str,
    node: str,
    need: CudaNeed | None,
) -> dict[str, Any]:
    count: int = request["count"]
    model = matrix.model_of(product).model
    return {
        "count": count,
        "model": model,
        "product": product,
        "node_selector": _selector(product, request.get("node_name")),
        "limits": {matrix.GPU_RESOURCE: count},
        "quota": {"gpu": {"requested": count, "overhead": 0}},
        "suggested_node": node,
        "candidate_nodes": inventory.nodes_fitting(product, count),
        "cuda": {
            "required": matrix.cuda_text(need.version) if need else None,
            "source": need.source if need else None,
            "max_supported": matrix.cuda_text(matrix.MAX_CUDA),
        },
        "driver_version": matrix.DRIVER_VERSION,
    }
