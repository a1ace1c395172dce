"""Node administration rules: which labels and taints the platform protects, and the patches.

The platform schedules by some node metadata, so removing it would silently break isolation
or placement: the architecture (`kubernetes.io/arch`; GPU work stays off Arm), the GPU
inventory labels (`nvidia.com/gpu.*`, `nvidia.com/cuda.*`), the Kata capability
(`katacontainers.io/*`, which the `kata` RuntimeClass selects on), and the labels Kubernetes
itself maintains (`kubernetes.io/hostname`, `kubernetes.io/os`, `node.kubernetes.io/*`,
`topology.kubernetes.io/*`). Those labels may be neither removed nor changed. Taints under the
platform's prefixes may be added but not removed; the `node.kubernetes.io/*` taints belong to
Kubernetes' controllers (cordon is its own endpoint) and are neither added nor removed here.
"""

from __future__ import annotations

from typing import Any

from services.cluster.exceptions import ProtectedNodeMetadata

PROTECTED_LABELS = frozenset(
    {
        "kubernetes.io/arch",
        "beta.kubernetes.io/arch",
        "kubernetes.io/os",
        "beta.kubernetes.io/os",
        "kubernetes.io/hostname",
    }
)
PROTECTED_LABEL_PREFIXES = (
    "nvidia.com/",
    "katacontainers.io/",
    "node.kubernetes.io/",
    "topology.kubernetes.io/",
    "node-role.kubernetes.io/",
)
PROTECTED_TAINT_PREFIXES = ("nvidia.com/", "katacontainers.io/", "kubernetes.io/arch")
SYSTEM_TAINT_PREFIXES = ("node.kubernetes.io/", "node.cloudprovider.kubernetes.io/")


def is_protected_label(key: str) -> bool:
    return key in PROTECTED_LABELS or key.startswith(PROTECTED_LABEL_PREFIXES)


def label_patch(current: dict[str, str], add: dict[str, str], remove: list[str]) -> dict[str, Any]:
    """A merge patch of metadata.labels; refuses touching a protected label."""
    refused = sorted(
        {key for key in remove if is_protected_label(key) and key in current}
        | {
            key
            for key, value in add.items()
            if is_protected_label(key) and current.get(key) != value
        }
    )
    if refused:
        raise ProtectedNodeMetadata(
            f"platform labels cannot be removed or changed: {', '.join(refused)}",
            {"location": "body", "fields": {"labels": refused}},
        )
    labels: dict[str, str | None] = {key: None for key in remove if key in current}
    labels.update(add)
    return {"metadata": {"labels": labels}}


def _same(taint: dict[str, Any], wanted: dict[str, Any]) -> bool:
    if taint.get("key") != wanted["key"]:
        return False
    return wanted.get("effect") is None or taint.get("effect") == wanted["effect"]


def _check_taint_keys(add: list[dict[str, Any]], remove_keys: list[str]) -> None:
    system = sorted(
        {t["key"] for t in add if t["key"].startswith(SYSTEM_TAINT_PREFIXES)}
        | {key for key in remove_keys if key.startswith(SYSTEM_TAINT_PREFIXES)}
    )
    if system:
        raise ProtectedNodeMetadata(
            f"taints managed by Kubernetes cannot be edited: {', '.join(system)}",
            {"location": "body", "fields": {"taints": system}},
        )
    protected = sorted({key for key in remove_keys if key.startswith(PROTECTED_TAINT_PREFIXES)})
    if protected:
        raise ProtectedNodeMetadata(
            f"platform taints cannot be removed: {', '.join(protected)}",
            {"location": "body", "fields": {"taints": protected}},
        )


def taint_patch(
    node: dict[str, Any], add: list[dict[str, Any]], remove: list[dict[str, Any]]
) -> dict[str, Any]:
    """A patch replacing spec.taints, guarded by the node's resourceVersion."""
    current = list((node.get("spec") or {}).get("taints") or [])
    removing = [t for t in current if any(_same(t, wanted) for wanted in remove)]
    _check_taint_keys(add, [t["key"] for t in removing])

    kept = [t for t in current if t not in removing]
    for taint in add:
        kept = [
            t
            for t in kept
            if not (t["key"] == taint["key"] and t.get("effect") == taint["effect"])
        ]
        kept.append({k: v for k, v in taint.items() if v is not None})
    return {
        "metadata": {"resourceVersion": node["metadata"]["resourceVersion"]},
        "spec": {"taints": kept},
    }


def cordon_patch(unschedulable: bool) -> dict[str, Any]:
    return {"spec": {"unschedulable": unschedulable}}
