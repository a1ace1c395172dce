"""The resource kinds `get`, `describe` and `delete` know: aliases and table columns."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cli.render import Column, key


def _ports(row: dict[str, Any]) -> str:
    ports = row.get("ports") or []
    return ",".join(f"{p.get('port')}/{p.get('protocol') or 'TCP'}" for p in ports) or "-"


def _node_status(row: dict[str, Any]) -> str:
    status = "Ready" if row.get("ready") else "NotReady"
    return f"{status},SchedulingDisabled" if row.get("unschedulable") else status


def _gib(value: Any) -> str:
    return f"{value / 2**30:.1f}Gi" if isinstance(value, int | float) else "-"


def _request(resource: str) -> Callable[[dict[str, Any]], str]:
    """A pod's request on its node: CPU in millicores, memory in MiB."""

    def get(row: dict[str, Any]) -> str:
        value = (row.get("requests") or {}).get(resource)
        if not isinstance(value, int | float):
            return "-"
        return f"{value}m" if resource == "cpu" else f"{value / 2**20:.0f}Mi"

    return get


def _use(resource: str) -> Callable[[dict[str, Any]], str]:
    """`allocated/allocatable` of a node summary: CPU in millicores, memory in GiB."""

    def get(row: dict[str, Any]) -> str:
        used = (row.get("allocated") or {}).get(resource)
        free = (row.get("allocatable") or {}).get(resource)
        if resource == "cpu":
            return f"{used}m/{free}m"
        if resource == "memory":
            return f"{_gib(used)}/{_gib(free)}"
        return f"{used}/{free}"

    return get


def _node_gpu(row: dict[str, Any]) -> str:
    gpu = row.get("gpu") or {}
    return f"{gpu.get('count')}x{gpu['product']}" if gpu.get("product") else "-"


def _key_count(row: dict[str, Any]) -> int:
    return len(row.get("keys") or [])


def _ready(row: dict[str, Any]) -> str:
    rollout = row.get("rollout") or {}
    ready = rollout.get("availableReplicas", rollout.get("readyReplicas"))
    if ready is None:
        return "-"
    return f"{ready}/{row.get('replicas')}"


KINDS: dict[str, str] = {}
for _kind, _aliases in {
    "workloads": ("workload", "wl", "deployments", "deploy", "jobs", "statefulsets"),
    "pods": ("pod", "po"),
    "services": ("service", "svc", "ingresses", "ingress"),
    "claims": ("claim", "pvc", "pvcs", "volume-claims"),
    "quota": ("quotas",),
    "projects": ("project",),
    "namespaces": ("namespace", "ns"),
    "users": ("user",),
    "departments": ("department", "dept", "depts"),
    "members": ("member",),
    "nodes": ("node", "no"),
    "gpus": ("gpu",),
    "config": ("configs", "configmaps", "configmap", "cm", "secrets", "secret"),
    "rates": ("rate",),
}.items():
    KINDS[_kind] = _kind
    KINDS.update({alias: _kind for alias in _aliases})

COLUMNS: dict[str, list[Column]] = {
    "workloads": [
        ("namespace", key("namespace")),
        ("kind", key("kind")),
        ("name", key("name")),
        ("replicas", key("replicas")),
        ("stopped", key("stopped")),
        ("revision", key("revision")),
        ("created", key("created_at")),
    ],
    "workload_status": [
        ("kind", key("kind")),
        ("name", key("name")),
        ("replicas", key("replicas")),
        ("ready", _ready),
        ("rollout", key("rollout", "state")),
    ],
    "pods": [
        ("namespace", key("namespace")),
        ("workload", key("workload")),
        ("name", key("name")),
        ("phase", key("phase")),
        ("ready", key("ready")),
        ("restarts", key("restarts")),
        ("node", key("node")),
        ("ip", key("ip")),
    ],
    "services": [
        ("namespace", key("namespace")),
        ("kind", key("kind")),
        ("name", key("name")),
        ("type", key("type")),
        ("cluster-ip", key("cluster_ip")),
        ("external-ip", key("load_balancer", "address")),
        ("ports", _ports),
    ],
    "claims": [
        ("namespace", key("namespace")),
        ("name", key("name")),
        ("class", key("storage_class")),
        ("requested", key("requested_bytes")),
        ("capacity", key("capacity_bytes")),
        ("phase", key("phase")),
        ("volume", key("volume")),
    ],
    "quota": [
        ("resource", key("resource")),
        ("limit", key("limit")),
        ("requested", key("requested")),
        ("overhead", key("overhead")),
        ("used", key("used")),
        ("reserved", key("reserved")),
    ],
    "projects": [
        ("id", key("id")),
        ("name", key("name")),
        ("department", key("department_id")),
        ("created", key("created_at")),
    ],
    "namespaces": [
        ("name", key("name")),
        ("status", key("status")),
        ("ready", key("ready")),
        ("created", key("created_at")),
    ],
    "objects": [
        ("owner", key("owner")),
        ("kind", key("kind")),
        ("namespace", key("namespace")),
        ("name", key("name")),
    ],
    "audit": [
        ("time", key("occurred_at")),
        ("type", key("type")),
        ("actor", key("actor")),
        ("outcome", key("outcome")),
        ("kind", key("resource", "kind")),
        ("namespace", key("resource", "namespace")),
        ("name", key("resource", "name")),
    ],
    "usage": [("metric", key("metric")), ("part", key("part")), ("value", key("value"))],
    "revisions": [
        ("revision", key("revision")),
        ("images", key("images")),
        ("created", key("created_at")),
    ],
    "users": [
        ("id", key("id")),
        ("username", key("username")),
        ("email", key("email")),
        ("cloud-admin", key("is_cloud_admin")),
        ("disabled", key("disabled")),
        ("created", key("created_at")),
    ],
    "departments": [
        ("id", key("id")),
        ("name", key("name")),
        ("description", key("description")),
        ("created", key("created_at")),
    ],
    "members": [
        ("username", key("username")),
        ("role", key("role")),
        ("user-id", key("user_id")),
        ("added", key("created_at")),
    ],
    "nodes": [
        ("name", key("name")),
        ("status", _node_status),
        ("roles", key("roles")),
        ("arch", key("architecture")),
        ("kata", key("kata")),
        ("gpu", _node_gpu),
        ("cpu", _use("cpu")),
        ("memory", _use("memory")),
        ("pods", _use("pods")),
    ],
    "node_conditions": [
        ("type", key("type")),
        ("status", key("status")),
        ("reason", key("reason")),
        ("message", key("message")),
    ],
    "node_pods": [
        ("namespace", key("namespace")),
        ("name", key("name")),
        ("phase", key("phase")),
        ("cpu", _request("cpu")),
        ("memory", _request("memory")),
        ("gpu", key("requests", "gpu")),
    ],
    "gpus": [
        ("node", key("node")),
        ("product", key("product")),
        ("model", key("model")),
        ("arch", key("arch")),
        ("supported", key("supported")),
        ("allocatable", key("allocatable")),
        ("allocated", key("allocated")),
        ("free", key("free")),
        ("unschedulable", key("unschedulable")),
    ],
    "gpu_models": [
        ("model", key("model")),
        ("arch", key("arch")),
        ("supported", key("supported")),
        ("nodes", key("nodes")),
        ("allocatable", key("allocatable")),
        ("allocated", key("allocated")),
        ("free", key("free")),
        ("max-free-on-one-node", key("max_free_on_one_node")),
    ],
    # names and kinds only: never a value, not even a masked one
    "config": [
        ("namespace", key("namespace")),
        ("kind", key("kind")),
        ("name", key("name")),
        ("type", key("type")),
        ("keys", _key_count),
        ("created", key("created_at")),
    ],
    "rates": [("metric", key("metric")), ("rate", key("rate")), ("currency", key("currency"))],
}
