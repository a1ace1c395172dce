"""The resource kinds `get`, `describe` and `delete` know: aliases and table columns."""

from __future__ import annotations

from typing import Any

from cli.render import Column, key


def _ports(row: dict[str, Any]) -> str:
    ports = row.get("ports") or []
    return ",".join(f"{p.get('port')}/{p.get('protocol') or 'TCP'}" for p in ports) or "-"


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
}
