"""Services and Ingresses of a project: list, create, update, edit as YAML, delete, apply.

Every call first checks that the namespace belongs to the project (label scs.io/project), so
one project can never reach another's objects through this service. A LoadBalancer Service
created here gets its address at once (the controller's own code runs inline), so the answer
says whether it was allocated or is pending; the watch would do the same a moment later.
"""

from __future__ import annotations

import logging
from typing import Any

from services.network import cluster, isolation, loadbalancer, manifests
from services.network.exceptions import (
    IngressHostTaken,
    NamespaceNotInProject,
    NetworkObjectExists,
    NetworkObjectNotFound,
)
from services.network.loadbalancer import LbContext

logger = logging.getLogger(__name__)


def check_namespace(namespace: str, project_id: str) -> None:
    found = cluster.get_namespace(namespace)
    owner = (
        None
        if found is None
        else (found["metadata"].get("labels") or {}).get(isolation.PROJECT_LABEL)
    )
    if owner != project_id:
        raise NamespaceNotInProject(
            f"namespace {namespace} is not a namespace of project {project_id}",
            {
                "namespace": namespace,
                "project_id": project_id,
                "fields": {"namespace": ["not a namespace of this project"]},
            },
        )


def project_namespaces(project_id: str) -> list[str]:
    found = cluster.list_namespaces(f"{isolation.PROJECT_LABEL}={project_id}")
    return sorted(ns["metadata"]["name"] for ns in found)


def list_objects(ctx: LbContext, project_id: str, namespace: str | None) -> list[dict[str, Any]]:
    if namespace is not None:
        check_namespace(namespace, project_id)
    names = [namespace] if namespace else project_namespaces(project_id)
    items = []
    for name in names:
        for kind in ("Service", "Ingress"):
            for obj in cluster.list_objects(kind, name):
                items.append(_summary(ctx, {"kind": kind, **obj}))
    return items


def get_object(
    ctx: LbContext, project_id: str, namespace: str, kind: str, name: str
) -> dict[str, Any]:
    check_namespace(namespace, project_id)
    obj = cluster.read_object(kind, namespace, name)
    return {**_summary(ctx, {"kind": kind, **obj}), "manifest": {"kind": kind, **obj}}


def create(
    ctx: LbContext, project_id: str, namespace: str, manifest: dict[str, Any], actor: str
) -> dict[str, Any]:
    check_namespace(namespace, project_id)
    if manifest["kind"] == "Ingress":
        check_hosts_free(project_id, manifest)
    created = {"kind": manifest["kind"], **cluster.create_object(manifest)}
    logger.info(
        "%s %s/%s created in project %s by %s",
        manifest["kind"],
        namespace,
        manifest["metadata"]["name"],
        project_id,
        actor,
    )
    return _after_write(ctx, created, project_id)


def replace(
    ctx: LbContext, project_id: str, namespace: str, manifest: dict[str, Any], actor: str
) -> dict[str, Any]:
    """Replace an existing object with `manifest`, keeping what the cluster assigned."""
    check_namespace(namespace, project_id)
    kind, name = manifest["kind"], manifest["metadata"]["name"]
    current = cluster.read_object(kind, namespace, name)
    manifest["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
    if kind == "Service":
        _keep_assigned(manifest["spec"], current.get("spec") or {})
    if kind == "Ingress":
        check_hosts_free(project_id, manifest)
    replaced = {"kind": kind, **cluster.replace_object(manifest)}
    logger.info("%s %s/%s replaced in project %s by %s", kind, namespace, name, project_id, actor)
    return _after_write(ctx, replaced, project_id)


def apply(
    ctx: LbContext, project_id: str, namespace: str, manifest: dict[str, Any], actor: str
) -> dict[str, Any]:
    """Create, or replace when it exists (the cross-service `apply_manifest` contract)."""
    try:
        return create(ctx, project_id, namespace, manifest, actor)
    except NetworkObjectExists:
        return replace(ctx, project_id, namespace, manifest, actor)


def delete(
    ctx: LbContext, project_id: str, namespace: str, kind: str, name: str, actor: str
) -> dict[str, Any]:
    """Delete; answers {"deleted": bool} (absent objects are not an error: idempotent)."""
    check_namespace(namespace, project_id)
    try:
        cluster.delete_object(kind, namespace, name)
    except NetworkObjectNotFound:
        return {"kind": kind, "namespace": namespace, "name": name, "deleted": False}
    if kind == "Service":
        loadbalancer.release(ctx, f"{namespace}/{name}")
    logger.info("%s %s/%s deleted in project %s by %s", kind, namespace, name, project_id, actor)
    return {"kind": kind, "namespace": namespace, "name": name, "deleted": True}


def ingress_hosts(manifest: dict[str, Any]) -> dict[str, str]:
    """The host names an Ingress claims, each with the field path that names it first."""
    spec = manifest.get("spec") or {}
    hosts: dict[str, str] = {}
    for i, rule in enumerate(spec.get("rules") or []):
        host = (rule or {}).get("host")
        if isinstance(host, str) and host:
            hosts.setdefault(host.lower(), f"spec.rules[{i}].host")
    for i, tls in enumerate(spec.get("tls") or []):
        for j, host in enumerate((tls or {}).get("hosts") or []):
            if isinstance(host, str) and host:
                hosts.setdefault(host.lower(), f"spec.tls[{i}].hosts[{j}]")
    return hosts


def check_hosts_free(project_id: str, manifest: dict[str, Any]) -> None:
    """A host name belongs to the project whose Ingress claimed it first.

    Another project's Ingress on the same host would take over that project's traffic at the
    ingress controller; namespaces outside the platform count as other owners too.
    """
    wanted = ingress_hosts(manifest)
    if not wanted:
        return
    owners = {
        ns["metadata"]["name"]: (ns["metadata"].get("labels") or {}).get(isolation.PROJECT_LABEL)
        for ns in cluster.list_namespaces(label_selector="")
    }
    for other in cluster.list_all_ingresses():
        if owners.get(other["metadata"]["namespace"]) == project_id:
            continue
        for host in ingress_hosts(other):
            if host in wanted:
                raise IngressHostTaken(
                    f"the host {host} is already served by another project",
                    {"field": wanted[host], "host": host},
                )


def _keep_assigned(spec: dict[str, Any], current: dict[str, Any]) -> None:
    # clusterIP(s) are immutable and node ports should survive an edit that does not name them.
    for field in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"):
        if field not in spec and field in current:
            spec[field] = current[field]
    assigned = {
        (p.get("port"), p.get("protocol", "TCP")): p.get("nodePort")
        for p in current.get("ports") or []
    }
    if spec.get("type") in ("NodePort", "LoadBalancer"):
        for port in spec.get("ports") or []:
            node_port = assigned.get((port.get("port"), port.get("protocol", "TCP")))
            if node_port and "nodePort" not in port:
                port["nodePort"] = node_port


def _after_write(ctx: LbContext, obj: dict[str, Any], project_id: str) -> dict[str, Any]:
    lb = None
    if obj["kind"] == "Service":
        lb = loadbalancer.reconcile_service(ctx, obj, project_id)
    return manifests.summary(obj, lb)


def _summary(ctx: LbContext, obj: dict[str, Any]) -> dict[str, Any]:
    lb = None
    if obj["kind"] == "Service" and (obj.get("spec") or {}).get("type") == "LoadBalancer":
        state = loadbalancer.status_of(ctx, loadbalancer.service_key(obj))
        lb = {
            "state": state["state"] if state["state"] != "none" else "pending",
            "address": state["address"],
            "reason": state["reason"],
            "members": sorted(state["members"]),
        }
    return manifests.summary(obj, lb)
