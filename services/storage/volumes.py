"""PersistentVolumes and StorageClasses as the project's admins see them (read, YAML, delete).

A project sees the PVs whose claim lives in one of its namespaces; a Bound PV cannot be
deleted here (delete the claim; the reclaim policy then removes the volume).
"""

from __future__ import annotations

import logging
from typing import Any

import yaml

from services.storage import cluster, namespaces
from services.storage.exceptions import StorageObjectExists, StorageObjectNotFound

logger = logging.getLogger(__name__)


def summary(pv: dict[str, Any]) -> dict[str, Any]:
    spec, status = pv.get("spec") or {}, pv.get("status") or {}
    claim = spec.get("claimRef") or {}
    return {
        "name": pv["metadata"]["name"],
        "storage_class": spec.get("storageClassName"),
        "capacity": (spec.get("capacity") or {}).get("storage"),
        "reclaim_policy": spec.get("persistentVolumeReclaimPolicy"),
        "phase": status.get("phase"),
        "claim": {"namespace": claim.get("namespace"), "name": claim.get("name")}
        if claim
        else None,
    }


def list_volumes(project_id: str) -> list[dict[str, Any]]:
    owned = set(namespaces.project_namespaces(project_id))
    return [
        summary(pv)
        for pv in cluster.list_volumes()
        if ((pv.get("spec") or {}).get("claimRef") or {}).get("namespace") in owned
    ]


def _owned_volume(project_id: str, name: str) -> dict[str, Any]:
    pv = cluster.read_volume(name)
    claim_ns = ((pv.get("spec") or {}).get("claimRef") or {}).get("namespace")
    if claim_ns is None or claim_ns not in namespaces.project_namespaces(project_id):
        raise StorageObjectNotFound(
            f"PersistentVolume {name} not found in this project", {"name": name}
        )
    return pv


def volume_yaml(project_id: str, name: str) -> dict[str, Any]:
    pv = _owned_volume(project_id, name)
    return {
        "name": name,
        "yaml": yaml.safe_dump(
            {"apiVersion": "v1", "kind": "PersistentVolume", **pv}, sort_keys=False
        ),
    }


def class_yaml(name: str) -> dict[str, Any]:
    sc = cluster.read_storage_class(name)
    document = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", **sc}
    return {"name": name, "yaml": yaml.safe_dump(document, sort_keys=False)}


def delete_volume(project_id: str, name: str, actor: str) -> dict[str, Any]:
    pv = _owned_volume(project_id, name)
    if (pv.get("status") or {}).get("phase") == "Bound":
        raise StorageObjectExists(
            f"PersistentVolume {name} is bound; delete its claim instead",
            {"name": name, "phase": "Bound"},
        )
    cluster.delete_volume(name)
    logger.info("PersistentVolume %s deleted by %s", name, actor)
    return {"name": name, "deleted": True}
