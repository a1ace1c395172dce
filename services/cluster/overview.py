"""The cluster overview and node summaries, computed from the API's plain dictionaries.

Pure functions (no cluster access), so they are unit-tested with recorded objects. Units are
exact integers: CPU in millicores, memory in bytes, GPUs and pods as counts. "Allocated" is the
sum of the requests (plus pod overhead) of the pods bound to a node that have not finished,
as the scheduler counts it.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from shared.quantity import bytes_of, cpu_millicores

GPU = "nvidia.com/gpu"
ARCH_LABEL = "kubernetes.io/arch"
GPU_PRODUCT_LABEL = "nvidia.com/gpu.product"
KATA_LABEL = "katacontainers.io/kata-runtime"
ROLE_PREFIX = "node-role.kubernetes.io/"
FINISHED_PHASES = ("Succeeded", "Failed")
RESOURCES = ("cpu", "memory", "gpu", "pods")


def amounts(quantities: dict[str, Any] | None) -> dict[str, int]:
    """cpu (millicores), memory (bytes), gpu and pods (counts) of a resource list."""
    quantities = quantities or {}
    return {
        "cpu": cpu_millicores(quantities.get("cpu", 0)),
        "memory": bytes_of(quantities.get("memory", 0)),
        "gpu": int(bytes_of(quantities.get(GPU, 0))),
        "pods": int(bytes_of(quantities.get("pods", 0))),
    }


def pod_requests(pod: dict[str, Any]) -> dict[str, int]:
    """What one pod takes from its node: max(sum of containers, any init container) + overhead."""
    spec = pod.get("spec") or {}
    total = Counter({"pods": 1})
    for container in spec.get("containers") or []:
        total.update(amounts((container.get("resources") or {}).get("requests")))
    for init in spec.get("initContainers") or []:
        needed = amounts((init.get("resources") or {}).get("requests"))
        for key in ("cpu", "memory", "gpu"):
            total[key] = max(total[key], needed[key])
    total.update(amounts(spec.get("overhead")))
    total["pods"] = 1
    return {key: total[key] for key in RESOURCES}


def active_pods_on(pods: list[dict[str, Any]], node: str) -> list[dict[str, Any]]:
    return [
        pod
        for pod in pods
        if (pod.get("spec") or {}).get("nodeName") == node
        and (pod.get("status") or {}).get("phase") not in FINISHED_PHASES
    ]


def pods_by_node(pods: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Active pods grouped by node in one pass (the overview reads every pod once)."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for pod in pods:
        node = (pod.get("spec") or {}).get("nodeName")
        if node and (pod.get("status") or {}).get("phase") not in FINISHED_PHASES:
            grouped.setdefault(node, []).append(pod)
    return grouped


def allocated(pods: list[dict[str, Any]]) -> dict[str, int]:
    total: Counter[str] = Counter()
    for pod in pods:
        total.update(pod_requests(pod))
    return {key: total[key] for key in RESOURCES}


def roles(node: dict[str, Any]) -> list[str]:
    labels = (node.get("metadata") or {}).get("labels") or {}
    found = sorted(key[len(ROLE_PREFIX) :] for key in labels if key.startswith(ROLE_PREFIX))
    return found or ["worker"]


def is_ready(node: dict[str, Any]) -> bool:
    conditions = (node.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def node_summary(node: dict[str, Any], pods: list[dict[str, Any]]) -> dict[str, Any]:
    """One row of the node list."""
    meta = node.get("metadata") or {}
    labels = meta.get("labels") or {}
    status = node.get("status") or {}
    spec = node.get("spec") or {}
    on_node = active_pods_on(pods, meta.get("name", ""))
    return {
        "name": meta.get("name"),
        "roles": roles(node),
        "architecture": labels.get(ARCH_LABEL),
        "ready": is_ready(node),
        "unschedulable": bool(spec.get("unschedulable")),
        "kata": labels.get(KATA_LABEL) == "true",
        "gpu": {
            "product": labels.get(GPU_PRODUCT_LABEL),
            "count": amounts(status.get("capacity"))["gpu"],
        },
        "capacity": amounts(status.get("capacity")),
        "allocatable": amounts(status.get("allocatable")),
        "allocated": allocated(on_node),
        "pod_count": len(on_node),
    }


def node_detail(node: dict[str, Any], pods: list[dict[str, Any]]) -> dict[str, Any]:
    """The node list row plus conditions, labels, taints and the pods on it."""
    meta = node.get("metadata") or {}
    status = node.get("status") or {}
    on_node = active_pods_on(pods, meta.get("name", ""))
    return node_summary(node, pods) | {
        "labels": meta.get("labels") or {},
        "taints": (node.get("spec") or {}).get("taints") or [],
        "conditions": [
            {key: c.get(key) for key in ("type", "status", "reason", "message")}
            for c in status.get("conditions") or []
        ],
        "node_info": status.get("nodeInfo") or {},
        "pods": [
            {
                "namespace": (p.get("metadata") or {}).get("namespace"),
                "name": (p.get("metadata") or {}).get("name"),
                "phase": (p.get("status") or {}).get("phase"),
                "requests": pod_requests(p),
            }
            for p in on_node
        ],
    }


def cluster_overview(
    version: dict[str, Any],
    nodes: list[dict[str, Any]],
    pods: list[dict[str, Any]],
    runtime_classes: list[dict[str, Any]],
) -> dict[str, Any]:
    """Version, node counts by role and architecture, capacity against allocation."""
    return summarise(version, node_summaries(nodes, pods), runtime_classes)


def node_summaries(
    nodes: list[dict[str, Any]], pods: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    grouped = pods_by_node(pods)
    return [
        node_summary(n, grouped.get((n.get("metadata") or {}).get("name", ""), [])) for n in nodes
    ]


def summarise(
    version: dict[str, Any],
    summaries: list[dict[str, Any]],
    runtime_classes: list[dict[str, Any]],
) -> dict[str, Any]:
    """The overview from node summaries."""
    by_role: Counter[str] = Counter()
    for row in summaries:
        by_role.update(row["roles"])
    totals = {
        part: {key: sum(row[part][key] for row in summaries) for key in RESOURCES}
        for part in ("capacity", "allocatable", "allocated")
    }
    return {
        "kubernetes_version": version.get("gitVersion"),
        "nodes": {
            "total": len(summaries),
            "ready": sum(1 for row in summaries if row["ready"]),
            "unschedulable": sum(1 for row in summaries if row["unschedulable"]),
            "by_role": dict(sorted(by_role.items())),
            "by_architecture": dict(
                sorted(Counter(str(row["architecture"]) for row in summaries).items())
            ),
            "gpu_products": dict(
                sorted(
                    Counter(
                        str(row["gpu"]["product"]) for row in summaries if row["gpu"]["product"]
                    ).items()
                )
            ),
        },
        "resources": totals,
        "runtime_classes": [runtime_class(rc) for rc in runtime_classes],
    }


def runtime_class(rc: dict[str, Any]) -> dict[str, Any]:
    overhead = ((rc.get("overhead") or {}).get("podFixed")) or {}
    return {
        "name": (rc.get("metadata") or {}).get("name"),
        "handler": rc.get("handler"),
        "overhead": {
            "cpu": cpu_millicores(overhead.get("cpu", 0)),
            "memory": bytes_of(overhead.get("memory", 0)),
        },
        "node_selector": ((rc.get("scheduling") or {}).get("nodeSelector")) or {},
    }
