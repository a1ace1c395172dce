"""Claims and volumes of a project, for the gateway: list, create, expand, edit YAML, delete.

Quota is checked before the cluster is touched: a claim over quota, or an expansion past the
class quota, is refused with `quota_exceeded` and nothing is created or changed. The
reservation made here carries over to the provisioner through the claim's annotation (create)
or the expansion key (expand), which reserve the same key again, idempotently.
"""

from __future__ import annotations

import copy
import logging
import uuid
from typing import Any

import yaml

from services.storage import charges, classes, cluster, namespaces
from services.storage.exceptions import ExpansionRefused, InvalidClaim, StorageObjectExists
from services.storage.provisioner import RESERVATION_ANNOTATION, StorageContext, expansion_key
from shared.manifest_shapes import SHAPES, ShapeError, check_shape
from shared.quantity import bytes_of

logger = logging.getLogger(__name__)

PROJECT_LABEL = "scs.io/project"


def _invalid(field: str, message: str) -> InvalidClaim:
    return InvalidClaim(f"{field}: {message}", {"fields": {field: [message]}})


def summary(pvc: dict[str, Any]) -> dict[str, Any]:
    meta, spec, status = pvc["metadata"], pvc.get("spec") or {}, pvc.get("status") or {}
    requested = ((spec.get("resources") or {}).get("requests") or {}).get("storage")
    capacity = (status.get("capacity") or {}).get("storage")
    return {
        "kind": "PersistentVolumeClaim",
        "namespace": meta["namespace"],
        "name": meta["name"],
        "uid": meta.get("uid"),
        "storage_class": spec.get("storageClassName"),
        "access_modes": spec.get("accessModes") or [],
        "requested_bytes": bytes_of(requested) if requested else None,
        "capacity_bytes": bytes_of(capacity) if capacity else None,
        "phase": status.get("phase"),
        "volume": spec.get("volumeName"),
        "labels": meta.get("labels") or {},
    }


def list_claims(project_id: str, namespace: str | None) -> list[dict[str, Any]]:
    if namespace is not None:
        namespaces.check_in_project(namespace, project_id)
    names = [namespace] if namespace else namespaces.project_namespaces(project_id)
    return [summary(pvc) for name in names for pvc in cluster.list_claims(name)]


def claim_manifest(namespace: str, project_id: str, form: dict[str, Any], key: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {
            "name": form["name"],
            "namespace": namespace,
            "labels": {**form.get("labels", {}), PROJECT_LABEL: project_id},
            "annotations": {RESERVATION_ANNOTATION: key},
        },
        "spec": {
            "accessModes": form["access_modes"],
            "storageClassName": form["storage_class"],
            "resources": {"requests": {"storage": str(form["size_bytes"])}},
        },
    }


def create_claim(
    ctx: StorageContext, project_id: str, namespace: str, form: dict[str, Any], actor: str
) -> dict[str, Any]:
    namespaces.check_in_project(namespace, project_id)
    storage_class = form.get("storage_class") or classes.DEFAULT_CLASS
    if storage_class not in classes.CLASSES:
        raise _invalid("storage_class", f"one of {', '.join(classes.CLASSES)}")
    form = {**form, "storage_class": storage_class}
    key = f"pvc-{namespace}-{form['name']}-{uuid.uuid4().hex[:8]}"
    charges.reserve(ctx.quota, project_id, key, storage_class, form["size_bytes"], actor)
    try:
        created = cluster.create_claim(claim_manifest(namespace, project_id, form, key))
    except Exception:
        charges.release(ctx.quota, key, actor)  # nothing half-applied
        raise
    logger.info(
        "claim %s/%s (%s, %d bytes) created in project %s by %s",
        namespace,
        form["name"],
        storage_class,
        form["size_bytes"],
        project_id,
        actor,
    )
    return summary(created)


def expand_claim(
    ctx: StorageContext, project_id: str, namespace: str, name: str, size: int, actor: str
) -> dict[str, Any]:
    namespaces.check_in_project(namespace, project_id)
    pvc = cluster.read_claim(namespace, name)
    _check_expansion(ctx, project_id, pvc, size, actor)
    patched = cluster.patch_claim(
        namespace, name, {"spec": {"resources": {"requests": {"storage": str(size)}}}}
    )
    logger.info("claim %s/%s asked to grow to %d bytes by %s", namespace, name, size, actor)
    return summary(patched)


def _check_expansion(
    ctx: StorageContext, project_id: str, pvc: dict[str, Any], size: int, actor: str
) -> None:
    """Refuse what cannot grow; reserve the difference (the provisioner commits it)."""
    meta, spec = pvc["metadata"], pvc.get("spec") or {}
    storage_class = spec.get("storageClassName")
    current = summary(pvc)["requested_bytes"] or 0
    if storage_class not in classes.CLASSES:
        raise ExpansionRefused(
            f"claim {meta['name']} is not of a class this service provisions",
            {"fields": {"size": ["the class cannot grow here"]}},
        )
    if (pvc.get("status") or {}).get("phase") != "Bound":
        raise ExpansionRefused(
            f"claim {meta['name']} is not bound yet",
            {"fields": {"size": ["only a bound claim can grow"]}},
        )
    if size <= current:
        raise ExpansionRefused(
            f"claim {meta['name']} holds {current} bytes; a claim only grows",
            {"fields": {"size": [f"must be more than {current}"]}},
        )
    charges.reserve(
        ctx.quota,
        project_id,
        expansion_key(meta["uid"], size),
        storage_class,
        size - current,
        actor,
    )


def replace_yaml(
    ctx: StorageContext, project_id: str, namespace: str, name: str, text: str, actor: str
) -> dict[str, Any]:
    """Apply an edited claim: growth goes through the quota check, the rest to the cluster."""
    namespaces.check_in_project(namespace, project_id)
    edited = checked_claim(_parse(text), namespace, project_id)
    if edited["metadata"]["name"] != name:
        raise _invalid("metadata.name", f"the YAML must describe claim {name}")
    current = cluster.read_claim(namespace, name)
    wanted = summary(edited)["requested_bytes"] or 0
    if wanted != (summary(current)["requested_bytes"] or 0):
        _check_expansion(ctx, project_id, current, wanted, actor)
    edited["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
    replaced = cluster.replace_claim(edited)
    logger.info("claim %s/%s replaced from YAML by %s", namespace, name, actor)
    return summary(replaced)


def create_from_yaml(
    ctx: StorageContext, project_id: str, namespace: str, text: str, actor: str
) -> dict[str, Any]:
    namespaces.check_in_project(namespace, project_id)
    claim = checked_claim(_parse(text), namespace, project_id)
    storage_class = claim["spec"].get("storageClassName") or classes.DEFAULT_CLASS
    if storage_class not in classes.CLASSES:
        raise _invalid("spec.storageClassName", f"one of {', '.join(classes.CLASSES)}")
    key = f"pvc-{namespace}-{claim['metadata']['name']}-{uuid.uuid4().hex[:8]}"
    size = summary(claim)["requested_bytes"] or 0
    charges.reserve(ctx.quota, project_id, key, storage_class, size, actor)
    claim["metadata"].setdefault("annotations", {})[RESERVATION_ANNOTATION] = key
    try:
        created = cluster.create_claim(claim)
    except Exception:
        charges.release(ctx.quota, key, actor)
        raise
    logger.info(
        "claim %s/%s (%s, %d bytes) created from YAML by %s",
        namespace,
        claim["metadata"]["name"],
        storage_class,
        size,
        actor,
    )
    return summary(created)


def apply_manifest(
    ctx: StorageContext, project_id: str, namespace: str, manifest: dict[str, Any], actor: str
) -> dict[str, Any]:
    """Create or update a claim from a workload's manifest (cross-service contract)."""
    namespaces.check_in_project(namespace, project_id)
    claim = checked_claim(manifest, namespace, project_id)
    size = summary(claim)["requested_bytes"] or 0
    storage_class = claim["spec"].get("storageClassName") or classes.DEFAULT_CLASS
    if storage_class not in classes.CLASSES:
        raise _invalid("spec.storageClassName", f"one of {', '.join(classes.CLASSES)}")
    key = f"pvc-{namespace}-{claim['metadata']['name']}-{uuid.uuid4().hex[:8]}"
    charges.reserve(ctx.quota, project_id, key, storage_class, size, actor)
    claim["metadata"].setdefault("annotations", {})[RESERVATION_ANNOTATION] = key
    claim["spec"]["storageClassName"] = storage_class
    try:
        done = cluster.create_claim(claim)
    except StorageObjectExists:
        charges.release(ctx.quota, key, actor)
        current = cluster.read_claim(namespace, claim["metadata"]["name"])
        if size > (summary(current)["requested_bytes"] or 0):
            return expand_claim(ctx, project_id, namespace, claim["metadata"]["name"], size, actor)
        return summary(current)
    except Exception:
        charges.release(ctx.quota, key, actor)
        raise
    return summary(done)


def delete_claim(project_id: str, namespace: str, name: str, actor: str) -> dict[str, Any]:
    """`deleted` is False when the claim was already being deleted (its protection finalizer
    keeps it until no pod uses it), so a repeated delete is told apart from the first."""
    namespaces.check_in_project(namespace, project_id)
    answer = {"kind": "PersistentVolumeClaim", "namespace": namespace, "name": name}
    if cluster.read_claim(namespace, name)["metadata"].get("deletionTimestamp"):
        return {**answer, "deleted": False}
    cluster.delete_claim(namespace, name)
    logger.info("claim %s/%s deleted by %s", namespace, name, actor)
    return {**answer, "deleted": True}


def _parse(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise _invalid("yaml", f"not valid YAML: {exc}") from exc


def checked_claim(manifest: Any, namespace: str, project_id: str) -> dict[str, Any]:
    if not isinstance(manifest, dict) or manifest.get("kind") != "PersistentVolumeClaim":
        raise _invalid("kind", "the storage service applies PersistentVolumeClaim only")
    if manifest.get("apiVersion") != "v1":
        raise _invalid("apiVersion", "PersistentVolumeClaim must be v1")
    meta = manifest.get("metadata")
    if not isinstance(meta, dict) or not meta.get("name"):
        raise _invalid("metadata.name", "required")
    if meta.get("namespace") not in (None, namespace):
        raise _invalid("metadata.namespace", f"must be {namespace} (or absent)")
    claim = copy.deepcopy(manifest)
    try:
        check_shape(claim, SHAPES["PersistentVolumeClaim"])
    except ShapeError as exc:
        raise _invalid(exc.field, exc.problem) from exc
    requests = (claim["spec"].get("resources") or {}).get("requests") or {}
    try:
        size = bytes_of(requests.get("storage") or "")
    except (TypeError, ValueError) as exc:
        raise _invalid("spec.resources.requests.storage", "a quantity such as 10Gi") from exc
    if size <= 0:
        raise _invalid("spec.resources.requests.storage", "must be positive")
    claim.pop("status", None)
    claim["metadata"]["namespace"] = namespace
    labels = claim["metadata"].get("labels") or {}
    claim["metadata"]["labels"] = {**labels, PROJECT_LABEL: project_id}
    for server_field in ("uid", "creationTimestamp", "managedFields"):
        claim["metadata"].pop(server_field, None)
    return claim
