"""Project limits as ResourceQuota `hard` values, and the namespace setup answer.

Mapping (a resource without a Kubernetes counterpart is not mirrored):

| quota resource | ResourceQuota key |
| --- | --- |
| `cpu` (millicores) | `requests.cpu` |
| `memory` (bytes) | `requests.memory` |
| `gpu` | `requests.nvidia.com/gpu` |
| `storage.<class>` (bytes) | `<class>.storageclass.storage.k8s.io/requests.storage` |
| `count.<kind>` | `count/<kind>[.<group>]` for the kinds in COUNTED |

The apiserver adds the RuntimeClass's pod overhead to a pod's requests when it charges a
ResourceQuota, just as the ledger charges `requested + overhead`. Every namespace of a project
gets the project's whole limit: the ledger keeps the project-wide sum, the ResourceQuota is the
cluster's own backstop per namespace.
"""

from __future__ import annotations

from typing import Any

from shared.events import SYSTEM_ACTOR, new_event
from shared.quantity import format_millicores

COUNTED = {
    "pods": "count/pods",
    "services": "count/services",
    "configmaps": "count/configmaps",
    "secrets": "count/secrets",
    "persistentvolumeclaims": "count/persistentvolumeclaims",
    "deployments": "count/deployments.apps",
    "statefulsets": "count/statefulsets.apps",
    "daemonsets": "count/daemonsets.apps",
    "jobs": "count/jobs.batch",
    "cronjobs": "count/cronjobs.batch",
    "ingresses": "count/ingresses.networking.k8s.io",
    "horizontalpodautoscalers": "count/horizontalpodautoscalers.autoscaling",
}


def hard_of(limits: dict[str, int]) -> dict[str, str]:
    hard: dict[str, str] = {}
    for resource, value in limits.items():
        key = _key(resource)
        if key is not None:
            hard[key] = format_millicores(value) if resource == "cpu" else str(value)
    return hard


def _key(resource: str) -> str | None:
    if resource == "cpu":
        return "requests.cpu"
    if resource == "memory":
        return "requests.memory"
    if resource == "gpu":
        return "requests.nvidia.com/gpu"
    if resource.startswith("storage."):
        return f"{resource[len('storage.') :]}.storageclass.storage.k8s.io/requests.storage"
    if resource.startswith("count."):
        return COUNTED.get(resource[len("count.") :])
    return None


def setup_done_event(project_id: str | None, namespace: str) -> dict[str, Any]:
    """`namespace.setup_done` with step "quota" (the cluster service waits for it)."""
    return new_event(
        "namespace.setup_done",
        actor=SYSTEM_ACTOR,
        project=project_id,
        resource={"kind": "Namespace", "name": namespace},
        data={"namespace": namespace, "step": "quota"},
    )
