"""Reading manifests: YAML streams (JSON flavour included) into checked Kubernetes objects.

A request carries what `kubectl apply -f` takes: one or more documents. Each document is
classified as a workload (the five kinds this service runs), an HPA (also this service's), or a
companion owned by another service (Service, Ingress, PVC, ConfigMap, Secret). API versions the
cluster no longer serves are refused with the version to use instead.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import yaml

from services.workload.exceptions import ApiVersionRemoved, InvalidManifest, UnsupportedKind
from shared.manifest_shapes import ShapeError, check_kind_shape

MAX_DOCUMENTS = 50

# kind -> apiVersion the cluster serves
WORKLOAD_KINDS: dict[str, str] = {
    "Deployment": "apps/v1",
    "StatefulSet": "apps/v1",
    "DaemonSet": "apps/v1",
    "Job": "batch/v1",
    "CronJob": "batch/v1",
}
HPA_KIND = "HorizontalPodAutoscaler"
HPA_VERSIONS = ("autoscaling/v2", "autoscaling/v1")

# kind -> owning service, for objects a workload YAML carries alongside
COMPANION_OWNERS: dict[str, str] = {
    "Service": "network",
    "Ingress": "network",
    "PersistentVolumeClaim": "storage",
    "ConfigMap": "config",
    "Secret": "config",
}

# API versions removed from the apiserver, and what replaced them
REMOVED_VERSIONS: dict[str, str] = {
    "extensions/v1beta1": "apps/v1",
    "apps/v1beta1": "apps/v1",
    "apps/v1beta2": "apps/v1",
    "batch/v1beta1": "batch/v1",
    "batch/v2alpha1": "batch/v1",
    "autoscaling/v2beta1": "autoscaling/v2",
    "autoscaling/v2beta2": "autoscaling/v2",
    "networking.k8s.io/v1beta1": "networking.k8s.io/v1",
    "policy/v1beta1": "policy/v1",
}

WORKLOAD = "workload"
HPA = "hpa"
COMPANION = "companion"


@dataclass
class Document:
    """One object of a request, with its position in the stream (0-based)."""

    index: int
    role: str  # WORKLOAD, HPA or COMPANION
    body: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.body["kind"])

    @property
    def name(self) -> str:
        return str(self.body["metadata"]["name"])

    @property
    def owner(self) -> str:
        return COMPANION_OWNERS.get(self.kind, "workload")


def parse_stream(text: str) -> list[dict[str, Any]]:
    """The non-empty documents of a YAML (or JSON) stream."""
    try:
        documents = [doc for doc in yaml.safe_load_all(text) if doc is not None]
    except yaml.YAMLError as exc:
        raise InvalidManifest(
            f"the manifest is not valid YAML: {exc}", {"field": "manifest"}
        ) from exc
    return documents


def expand_lists(documents: list[Any]) -> list[Any]:
    """`kind: List` documents (what `kubectl get -o yaml` prints) become their items."""
    expanded: list[Any] = []
    for doc in documents:
        if (
            isinstance(doc, dict)
            and doc.get("kind") == "List"
            and isinstance(doc.get("items"), list)
        ):
            expanded.extend(doc["items"])
        else:
            expanded.append(doc)
    return expanded


def read_documents(manifest: str | list[Any] | dict[str, Any]) -> list[Document]:
    """Parse and classify every document; raise on the first one that cannot be used."""
    if isinstance(manifest, str):
        raw = parse_stream(manifest)
    elif isinstance(manifest, dict):
        raw = [manifest]
    else:
        raw = list(manifest)
    raw = expand_lists(raw)
    if not raw:
        raise InvalidManifest("the manifest holds no document", {"field": "manifest"})
    if len(raw) > MAX_DOCUMENTS:
        raise InvalidManifest(
            f"at most {MAX_DOCUMENTS} documents per request", {"field": "manifest"}
        )
    return [classify(index, doc) for index, doc in enumerate(raw)]


def classify(index: int, doc: Any) -> Document:
    if not isinstance(doc, dict):
        raise InvalidManifest(
            f"document {index} is not a mapping", {"field": "manifest", "document": index}
        )
    body = copy.deepcopy(doc)
    _require_identity(index, body)
    kind, version = body["kind"], body["apiVersion"]
    _refuse_removed_version(index, kind, version)

    if kind in WORKLOAD_KINDS:
        _require_version(index, kind, version, (WORKLOAD_KINDS[kind],))
        _require_shape(index, body)
        return Document(index, WORKLOAD, body)
    if kind == HPA_KIND:
        _require_version(index, kind, version, HPA_VERSIONS)
        _require_shape(index, body)
        return Document(index, HPA, body)
    if kind in COMPANION_OWNERS:
        _require_shape(index, body)
        return Document(index, COMPANION, body)
    known = sorted([*WORKLOAD_KINDS, HPA_KIND, *COMPANION_OWNERS])
    raise UnsupportedKind(
        f"document {index}: kind {kind} is not accepted here (accepted: {', '.join(known)})",
        {"field": "kind", "document": index, "kind": kind},
    )


def _require_identity(index: int, body: dict[str, Any]) -> None:
    for field in ("apiVersion", "kind"):
        if not isinstance(body.get(field), str) or not body[field]:
            raise InvalidManifest(
                f"document {index}: {field} is required",
                {"field": field, "document": index},
            )
    metadata = body.get("metadata")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str):
        raise InvalidManifest(
            f"document {index}: metadata.name is required",
            {"field": "metadata.name", "document": index},
        )


def _require_shape(index: int, body: dict[str, Any]) -> None:
    """Every field the platform reads has its Kubernetes type (shared/manifest_shapes.py).

    Runs before anything else reads the document; optional nulls are dropped here.
    """
    try:
        check_kind_shape(body)
    except ShapeError as exc:
        raise InvalidManifest(
            f"document {index}: {exc}",
            {"field": exc.field, "document": index, "expected": exc.expected},
        ) from exc


def _refuse_removed_version(index: int, kind: str, version: str) -> None:
    replacement = REMOVED_VERSIONS.get(version)
    if replacement is None:
        return
    raise ApiVersionRemoved(
        f"document {index}: {kind} {version} is no longer served by the cluster; "
        f"use apiVersion: {replacement}",
        {"field": "apiVersion", "document": index, "version": version, "use": replacement},
    )


def _require_version(index: int, kind: str, version: str, served: tuple[str, ...]) -> None:
    if version in served:
        return
    raise ApiVersionRemoved(
        f"document {index}: {kind} {version} is not served; use apiVersion: {served[0]}",
        {"field": "apiVersion", "document": index, "version": version, "use": served[0]},
    )


def pod_spec_path(kind: str) -> tuple[str, ...]:
    """Where the pod spec sits inside an object of `kind`."""
    if kind == "CronJob":
        return ("spec", "jobTemplate", "spec", "template", "spec")
    if kind == "Pod":
        return ("spec",)
    return ("spec", "template", "spec")


def pod_template_path(kind: str) -> tuple[str, ...]:
    return pod_spec_path(kind)[:-1]


def dig(body: dict[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = body
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def pod_spec(body: dict[str, Any]) -> dict[str, Any]:
    """The pod spec of a workload object (an empty dict when missing)."""
    spec = dig(body, pod_spec_path(str(body.get("kind"))))
    return spec if isinstance(spec, dict) else {}


def ensure_pod_spec(body: dict[str, Any]) -> dict[str, Any]:
    """The pod spec, created along its path when missing, for the platform to set fields."""
    node = body
    for key in pod_spec_path(str(body.get("kind"))):
        child = node.get(key)
        if not isinstance(child, dict):
            child = {}
            node[key] = child
        node = child
    return node


def replicas_of(body: dict[str, Any]) -> int:
    """Desired pods of a Deployment or StatefulSet (1 when unset), parallel pods of a Job."""
    kind, spec = body.get("kind"), body.get("spec") or {}
    if kind in ("Deployment", "StatefulSet"):
        value = spec.get("replicas", 1)
    elif kind == "Job":
        value = spec.get("parallelism", 1)
    elif kind == "CronJob":
        value = ((spec.get("jobTemplate") or {}).get("spec") or {}).get("parallelism", 1)
    else:
        value = 1
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidManifest(
            f"{kind} {dig(body, ('metadata', 'name'))}: replicas must be a non-negative integer",
            {"field": "spec.replicas"},
        )
    return value
