"""CustomResourceDefinitions and custom resources: what may be imported, and where.

A CRD is imported by a cloud admin (the gateway authorises `custom_resources.import_crd`).
Groups of Kubernetes itself (`*.k8s.io`, `*.kubernetes.io`) are refused: they are reserved
for the API's own types. A custom resource is imported by a project member into one of the
project's namespaces; its CRD must exist and serve the version named in `apiVersion`.
Cluster-scoped custom resources are refused for anyone but a cloud admin.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from services.cluster.exceptions import ObjectNotFound, invalid

CRD_API_VERSION = "apiextensions.k8s.io/v1"
RESERVED_GROUP_SUFFIXES = (".k8s.io", ".kubernetes.io")


@dataclass(frozen=True)
class ResourceType:
    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool


def parse_manifest(manifest: dict[str, Any] | None, text: str | None) -> dict[str, Any]:
    """One object from a dictionary or one YAML document; names the offending field."""
    if manifest is not None and text is not None:
        raise invalid("yaml", "give either manifest or yaml, not both")
    if text is not None:
        try:
            docs = [doc for doc in yaml.safe_load_all(text) if doc is not None]
        except yaml.YAMLError as exc:
            raise invalid("yaml", f"not valid YAML: {str(exc).splitlines()[0]}") from exc
        if len(docs) != 1:
            raise invalid("yaml", "must hold exactly one document")
        manifest = docs[0]
    if not isinstance(manifest, dict):
        raise invalid("manifest", "must be an object")
    meta = manifest.get("metadata")
    if not isinstance(meta, dict) or not isinstance(meta.get("name"), str):
        raise invalid("metadata.name", "is required")
    return manifest


def check_crd(manifest: dict[str, Any]) -> None:
    if manifest.get("apiVersion") != CRD_API_VERSION:
        raise invalid("apiVersion", f"must be {CRD_API_VERSION}")
    if manifest.get("kind") != "CustomResourceDefinition":
        raise invalid("kind", "must be CustomResourceDefinition")
    spec = manifest.get("spec") or {}
    group = spec.get("group") or ""
    plural = (spec.get("names") or {}).get("plural") or ""
    if not group or "." not in group:
        raise invalid("spec.group", "must be a DNS subdomain with at least one dot")
    if group.endswith(RESERVED_GROUP_SUFFIXES):
        raise invalid("spec.group", "groups of Kubernetes itself are reserved")
    if manifest["metadata"]["name"] != f"{plural}.{group}":
        raise invalid("metadata.name", "must be <spec.names.plural>.<spec.group>")


def crd_summary(crd: dict[str, Any]) -> dict[str, Any]:
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    return {
        "name": crd["metadata"]["name"],
        "group": spec.get("group"),
        "kind": names.get("kind"),
        "plural": names.get("plural"),
        "scope": spec.get("scope"),
        "versions": [v["name"] for v in spec.get("versions") or [] if v.get("served")],
        "established": any(
            c.get("type") == "Established" and c.get("status") == "True"
            for c in (crd.get("status") or {}).get("conditions") or []
        ),
    }


def resolve(crds: list[dict[str, Any]], api_version: str, kind: str) -> ResourceType:
    """The served resource type of `apiVersion`/`kind`, or ObjectNotFound."""
    group, _, version = api_version.rpartition("/")
    for crd in crds:
        row = crd_summary(crd)
        if row["group"] == group and row["kind"] == kind and version in row["versions"]:
            return ResourceType(group, version, row["plural"], kind, row["scope"] == "Namespaced")
    raise ObjectNotFound(
        f"no CustomResourceDefinition serves {api_version} {kind}",
        {"apiVersion": api_version, "kind": kind},
    )


def by_name(crds: list[dict[str, Any]], name: str) -> ResourceType:
    """The resource type of the CRD called `name` (its storage version), or ObjectNotFound."""
    for crd in crds:
        row = crd_summary(crd)
        if row["name"] == name and row["versions"]:
            return ResourceType(
                row["group"],
                row["versions"][0],
                row["plural"],
                row["kind"],
                row["scope"] == "Namespaced",
            )
    raise ObjectNotFound(f"no CustomResourceDefinition {name}", {"crd": name})


def check_custom_resource(manifest: dict[str, Any]) -> tuple[str, str]:
    api_version, kind = manifest.get("apiVersion"), manifest.get("kind")
    if not isinstance(api_version, str) or "/" not in api_version:
        raise invalid("apiVersion", "must be <group>/<version> of a CRD")
    if not isinstance(kind, str) or not kind:
        raise invalid("kind", "is required")
    return api_version, kind


def cr_summary(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata") or {}
    return {
        "apiVersion": obj.get("apiVersion"),
        "kind": obj.get("kind"),
        "namespace": meta.get("namespace"),
        "name": meta.get("name"),
        "uid": meta.get("uid"),
        "created_at": meta.get("creationTimestamp"),
    }
