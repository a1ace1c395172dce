"""What a workload costs the project's quota: requests of its pod template plus Kata overhead.

Per pod: CPU and memory requests (a container's limit stands in for a missing request, as the
apiserver defaults it) and GPUs (`nvidia.com/gpu` limits), combined as Kubernetes computes a
pod's effective request (and so its ResourceQuota usage), per resource:

    max(sum(app containers) + sum(sidecars),
        for each init container i in order: request(i) + sum(sidecars declared before i))

where a sidecar is an init container with `restartPolicy: Always` (it keeps running beside the
app containers; a sidecar's own term is itself plus the sidecars before it). The RuntimeClass
overhead (cpu 250m, memory 160Mi) is charged apart as `overhead`: the platform forces the Kata
class, whose admission sets `spec.overhead` on every pod, so a template may not set it
(isolation rule `pod_overhead`). Quota items are exact integers: millicores and bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.workload.exceptions import InvalidManifest
from services.workload.manifests import pod_spec, pod_spec_path
from shared.quantity import bytes_of, cpu_millicores

# A container that names neither a request nor a limit for CPU or memory gets these requests:
# a namespace whose ResourceQuota tracks requests admits no pod without them, and the ledger
# then charges what the apiserver counts.
DEFAULT_REQUESTS = {"cpu": "100m", "memory": "128Mi"}
KATA_OVERHEAD_CPU_MILLICORES = 250
KATA_OVERHEAD_MEMORY_BYTES = 160 * 2**20
GPU_RESOURCE = "nvidia.com/gpu"


@dataclass(frozen=True)
class PodCost:
    cpu: int = 0  # millicores requested
    memory: int = 0  # bytes requested
    gpu: int = 0
    overhead_cpu: int = KATA_OVERHEAD_CPU_MILLICORES
    overhead_memory: int = KATA_OVERHEAD_MEMORY_BYTES

    def to_dict(self) -> dict[str, int]:
        return {
            "cpu": self.cpu,
            "memory": self.memory,
            "gpu": self.gpu,
            "overhead_cpu": self.overhead_cpu,
            "overhead_memory": self.overhead_memory,
        }


def pod_cost(body: dict[str, Any]) -> PodCost:
    """The per-pod cost of a workload object's pod template (Kubernetes' effective request)."""
    spec = pod_spec(body)
    prefix = ".".join(pod_spec_path(str(body.get("kind"))))
    totals = (0, 0, 0)
    for i, container in _each(spec, "containers"):
        totals = _add(totals, _container_cost(container, f"{prefix}.containers[{i}]"))
    sidecars = (0, 0, 0)  # the sidecars started so far
    init_peak = (0, 0, 0)  # the highest of the init containers' terms, per resource
    for i, container in _each(spec, "initContainers"):
        values = _container_cost(container, f"{prefix}.initContainers[{i}]")
        if is_sidecar(container):
            sidecars = _add(sidecars, values)
            totals = _add(totals, values)  # it runs beside the app containers
            term = sidecars
        else:
            term = _add(values, sidecars)
        init_peak = _max(init_peak, term)
    cpu, memory, gpu = _max(totals, init_peak)
    return PodCost(cpu=cpu, memory=memory, gpu=gpu)


def is_sidecar(container: dict[str, Any]) -> bool:
    """An init container that keeps running beside the app containers (a native sidecar)."""
    return container.get("restartPolicy") == "Always"


def _add(a: tuple[int, int, int], b: tuple[int, int, int]) -> tuple[int, int, int]:
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2])


def _max(a: tuple[int, int, int], b: tuple[int, int, int]) -> tuple[int, int, int]:
    return (max(a[0], b[0]), max(a[1], b[1]), max(a[2], b[2]))


def fill_default_requests(body: dict[str, Any]) -> list[str]:
    """Give containers without a CPU/memory request or limit the platform's default requests.

    Returns the field paths that were filled.
    """
    spec = pod_spec(body)
    prefix = ".".join(pod_spec_path(str(body.get("kind"))))
    filled = []
    for list_name in ("containers", "initContainers"):
        for i, container in _each(spec, list_name):
            resources = container.setdefault("resources", {}) or {}
            container["resources"] = resources
            requests = resources.setdefault("requests", {}) or {}
            resources["requests"] = requests
            limits = resources.get("limits") or {}
            for name, value in DEFAULT_REQUESTS.items():
                if name not in requests and name not in limits:
                    requests[name] = value
                    filled.append(f"{prefix}.{list_name}[{i}].resources.requests.{name}")
    return filled


def quota_items(cost: PodCost, pods: int, storage: dict[str, int] | None = None) -> dict:
    """Quota reservation items for `pods` pods of `cost` (plus any storage per class)."""
    items: dict[str, dict[str, int]] = {
        "cpu": {"requested": cost.cpu * pods, "overhead": cost.overhead_cpu * pods},
        "memory": {"requested": cost.memory * pods, "overhead": cost.overhead_memory * pods},
        "count.pods": {"requested": pods, "overhead": 0},
    }
    if cost.gpu:
        items["gpu"] = {"requested": cost.gpu * pods, "overhead": 0}
    for storage_class, size in (storage or {}).items():
        items[f"storage.{storage_class}"] = {"requested": size * pods, "overhead": 0}
    return items


def _each(spec: dict[str, Any], name: str) -> list[tuple[int, dict[str, Any]]]:
    return [(i, c) for i, c in enumerate(spec.get(name) or []) if isinstance(c, dict)]


def _container_cost(container: dict[str, Any], path: str) -> tuple[int, int, int]:
    resources = container.get("resources") or {}
    requests = resources.get("requests") or {}
    limits = resources.get("limits") or {}
    cpu = requests.get("cpu", limits.get("cpu"))
    memory = requests.get("memory", limits.get("memory"))
    gpu = limits.get(GPU_RESOURCE, requests.get(GPU_RESOURCE))
    return (
        0 if cpu is None else _millicores(cpu, f"{path}.resources.requests.cpu"),
        0 if memory is None else _bytes(memory, f"{path}.resources.requests.memory"),
        0 if gpu is None else _bytes(gpu, f"{path}.resources.limits.{GPU_RESOURCE}"),
    )


def _millicores(value: Any, path: str) -> int:
    try:
        return cpu_millicores(value)
    except (ValueError, TypeError) as exc:
        raise InvalidManifest(f"{path}: {exc}", {"field": path}) from exc


def _bytes(value: Any, path: str) -> int:
    try:
        return bytes_of(value)
    except (ValueError, TypeError) as exc:
        raise InvalidManifest(f"{path}: {exc}", {"field": path}) from exc
