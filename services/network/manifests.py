"""Service and Ingress manifests: built from the API's forms, or checked when given whole.

A manifest applied through this service always lands in the namespace the caller named (a
different `metadata.namespace` is refused, not rewritten), loses any `status`, and carries the
label `scs.io/project`. Only the kinds this service owns are accepted (Service, Ingress).
"""

from __future__ import annotations

import copy
import re
from typing import Any

import yaml

from services.network.exceptions import InvalidManifest
from shared.manifest_shapes import SHAPES, ShapeError, check_shape

OWNED_KINDS = {"Service": "v1", "Ingress": "networking.k8s.io/v1"}
SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer")
DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
PROJECT_LABEL = "scs.io/project"


def _invalid(field: str, message: str) -> InvalidManifest:
    return InvalidManifest(f"{field}: {message}", {"fields": {field: [message]}})


def service_from_form(namespace: str, project_id: str, form: dict[str, Any]) -> dict[str, Any]:
    """A Service from the create/update form (already validated by the schema)."""
    ports = []
    for port in form["ports"]:
        entry: dict[str, Any] = {"port": port["port"], "protocol": port["protocol"]}
        for source, target in (
            ("name", "name"),
            ("target_port", "targetPort"),
            ("node_port", "nodePort"),
        ):
            if port.get(source) is not None:
                entry[target] = port[source]
        if "nodePort" in entry and form["type"] == "ClusterIP":
            raise _invalid("ports.node_port", "a ClusterIP Service has no node port")
        ports.append(entry)
    spec: dict[str, Any] = {"type": form["type"], "ports": ports}
    if form.get("selector"):
        spec["selector"] = form["selector"]
    return _with_meta("Service", namespace, project_id, form, spec)


def ingress_from_form(namespace: str, project_id: str, form: dict[str, Any]) -> dict[str, Any]:
    rules = []
    for rule in form["rules"]:
        backend = {"service": {"name": rule["service"], "port": {"number": rule["port"]}}}
        path = {"path": rule["path"], "pathType": rule["path_type"], "backend": backend}
        entry: dict[str, Any] = {"http": {"paths": [path]}}
        if rule.get("host"):
            entry["host"] = rule["host"]
        rules.append(entry)
    spec: dict[str, Any] = {"rules": rules}
    if form.get("ingress_class"):
        spec["ingressClassName"] = form["ingress_class"]
    return _with_meta("Ingress", namespace, project_id, form, spec)


def _with_meta(
    kind: str, namespace: str, project_id: str, form: dict[str, Any], spec: dict[str, Any]
) -> dict[str, Any]:
    labels = {**(form.get("labels") or {}), PROJECT_LABEL: project_id}
    return {
        "apiVersion": OWNED_KINDS[kind],
        "kind": kind,
        "metadata": {"name": form["name"], "namespace": namespace, "labels": labels},
        "spec": spec,
    }


def parse_yaml(text: str) -> dict[str, Any]:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise _invalid("yaml", f"not valid YAML: {exc}") from exc
    if not isinstance(document, dict):
        raise _invalid("yaml", "must be one YAML mapping (one object)")
    return document


def checked_manifest(manifest: Any, namespace: str, project_id: str) -> dict[str, Any]:
    """A copy of `manifest` ready to apply, or InvalidManifest naming the field."""
    if not isinstance(manifest, dict):
        raise _invalid("manifest", "must be an object")
    kind = manifest.get("kind")
    if kind not in OWNED_KINDS:
        raise _invalid(
            "kind", f"the network service applies {', '.join(OWNED_KINDS)}, not {kind!r}"
        )
    if manifest.get("apiVersion") != OWNED_KINDS[kind]:
        raise _invalid("apiVersion", f"{kind} must be {OWNED_KINDS[kind]}")
    meta = manifest.get("metadata")
    if not isinstance(meta, dict) or not DNS_LABEL.match(str(meta.get("name") or "")):
        raise _invalid("metadata.name", "a DNS label (lowercase letters, digits, '-') is required")
    if meta.get("namespace") not in (None, namespace):
        raise _invalid("metadata.namespace", f"must be {namespace} (or absent)")
    result = copy.deepcopy(manifest)
    try:
        check_shape(result, SHAPES[kind])
    except ShapeError as exc:
        raise _invalid(exc.field, exc.problem) from exc
    if kind == "Service":
        _check_service_spec(result["spec"])

    result.pop("status", None)
    result["metadata"]["namespace"] = namespace
    labels = result["metadata"].get("labels") or {}
    result["metadata"]["labels"] = {**labels, PROJECT_LABEL: project_id}
    for server_field in ("uid", "creationTimestamp", "managedFields", "generation"):
        result["metadata"].pop(server_field, None)
    return result


def _check_service_spec(spec: dict[str, Any]) -> None:
    kind = spec.get("type", "ClusterIP")
    if kind not in SERVICE_TYPES:
        raise _invalid(
            "spec.type", f"one of {', '.join(SERVICE_TYPES)} (ExternalName is not offered)"
        )
    if spec.get("externalIPs"):
        raise _invalid("spec.externalIPs", "external IPs are not allowed; use a LoadBalancer")


def summary(obj: dict[str, Any], lb: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the list and create answers show of one object."""
    meta, spec = obj["metadata"], obj.get("spec") or {}
    answer: dict[str, Any] = {
        "kind": obj.get("kind"),
        "namespace": meta["namespace"],
        "name": meta["name"],
        "uid": meta.get("uid"),
        "labels": meta.get("labels") or {},
        "created_at": meta.get("creationTimestamp"),
    }
    if obj.get("kind") == "Service":
        answer.update(
            type=spec.get("type"),
            cluster_ip=spec.get("clusterIP"),
            ports=spec.get("ports") or [],
            selector=spec.get("selector") or {},
        )
        if spec.get("type") == "LoadBalancer":
            answer["load_balancer"] = lb or {"state": "pending", "address": None}
    else:
        answer["hosts"] = [r.get("host") for r in spec.get("rules") or [] if r.get("host")]
    return answer
