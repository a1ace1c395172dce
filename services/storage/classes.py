"""The two StorageClasses this service provisions for, ensured at start.

`capacity` (the cluster default) and `high-performance`; both Immediate binding, expansion
allowed, reclaim policy Delete, provisioner `storage.scs.io/block` (this service).
"""

from __future__ import annotations

import logging
from typing import Any

from services.storage import cluster
from services.storage.exceptions import StorageObjectExists, StorageObjectNotFound

logger = logging.getLogger(__name__)

PROVISIONER = "storage.scs.io/block"
DEFAULT_CLASS = "capacity"
DEFAULT_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
CLASSES: dict[str, dict[str, str]] = {
    "capacity": {"tier": "capacity"},
    "high-performance": {"tier": "performance"},
}


def manifest(name: str) -> dict[str, Any]:
    default = "true" if name == DEFAULT_CLASS else "false"
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {
            "name": name,
            "labels": {"scs.io/managed": "true"},
            "annotations": {DEFAULT_ANNOTATION: default},
        },
        "provisioner": PROVISIONER,
        "parameters": CLASSES[name],
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "Immediate",
        "allowVolumeExpansion": True,
    }


def ensure_classes() -> list[str]:
    """Create the classes that are missing, correct the mutable fields of the others."""
    created = []
    for name in CLASSES:
        wanted = manifest(name)
        try:
            current = cluster.read_storage_class(name)
        except StorageObjectNotFound:
            try:
                cluster.create_storage_class(wanted)
                created.append(name)
                logger.info("StorageClass %s created", name)
            except StorageObjectExists:
                logger.debug("StorageClass %s created concurrently", name)
            continue
        _correct(name, wanted, current)
    return created


def _correct(name: str, wanted: dict[str, Any], current: dict[str, Any]) -> None:
    annotations = current["metadata"].get("annotations") or {}
    wanted_default = wanted["metadata"]["annotations"][DEFAULT_ANNOTATION]
    if (
        annotations.get(DEFAULT_ANNOTATION) != wanted_default
        or current.get("allowVolumeExpansion") is not True
    ):
        cluster.patch_storage_class(
            name,
            {
                "metadata": {"annotations": {DEFAULT_ANNOTATION: wanted_default}},
                "allowVolumeExpansion": True,
            },
        )
    if current.get("provisioner") != PROVISIONER:
        logger.warning(
            "StorageClass %s exists with provisioner %s; left alone",
            name,
            current.get("provisioner"),
        )
