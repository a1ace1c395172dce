"""The structural check of Kubernetes manifests: each field the platform reads has its type.

Services read manifests before the apiserver does (isolation rules, quota, labels, forwarding
to their owners), so a field of the wrong type (`containers: 7`, `spec.template: null`,
`requests: "1"`) must be refused before any of that code touches it. The expected types are a
table per kind: a dotted path (`[]` stands for every item of a list) and what it must hold.

`check_shape` walks the table in order (parents before children) and raises ShapeError naming
the first wrong field as a JSON path (`spec.template.spec.containers[0].resources.requests.cpu`).
A null where a field is optional is read as Kubernetes reads it, as absent, and dropped; a
required field may be neither null nor missing. Fields the table does not name are left to the
apiserver. Used by the workload, network and storage services; each wraps ShapeError in its own
`invalid_manifest` error.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from shared.quantity import parse_quantity

MAP = "an object"
MAPS = "a list of objects"
STR_MAP = "an object of strings"
QUANTITIES = "an object of quantities (e.g. 500m, 2, 4Gi)"
STR = "a string"
STRS = "a list of strings"
INT = "an integer"
INT_OR_STR = "an integer or a string"
BOOL = "true or false"


class ShapeError(ValueError):
    """A field of the wrong type: `field` is its JSON path, `expected` what it must hold."""

    def __init__(self, field: str, expected: str, problem: str | None = None) -> None:
        self.field = field
        self.expected = expected
        self.problem = problem or f"must be {expected}"
        super().__init__(f"{field} {self.problem}")


@dataclass(frozen=True)
class Shape:
    path: str
    type: str
    required: bool = False


def check_shape(body: dict[str, Any], shapes: tuple[Shape, ...]) -> None:
    """Raise ShapeError for the first field of `body` that does not fit `shapes`.

    Optional fields holding null are removed from `body` (as the apiserver reads them).
    """
    for shape in shapes:
        parent_path, _, key = shape.path.rpartition(".")
        for where, parent in _nodes(body, parent_path):
            if not isinstance(parent, dict):
                continue  # the parent's own shape was checked (or is not the platform's)
            field = f"{where}.{key}" if where else key
            if parent.get(key) is None:
                if shape.required:
                    raise ShapeError(field, shape.type, "is required")
                parent.pop(key, None)
                continue
            _check_value(field, parent[key], shape.type)


def _nodes(body: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Every node at `path` with its concrete JSON path; `[]` fans out over list items."""
    nodes: list[tuple[str, Any]] = [("", body)]
    for step in path.split(".") if path else []:
        each = step.endswith("[]")
        key = step[:-2] if each else step
        found = []
        for where, node in nodes:
            if not isinstance(node, dict) or key not in node:
                continue
            child, child_where = node[key], f"{where}.{key}" if where else key
            if not each:
                found.append((child_where, child))
            elif isinstance(child, list):
                found.extend((f"{child_where}[{i}]", item) for i, item in enumerate(child))
        nodes = found
    yield from nodes


def _check_value(field: str, value: Any, expected: str) -> None:
    if expected == MAP:
        ok = isinstance(value, dict)
    elif expected == MAPS:
        ok = isinstance(value, list)
        for i, item in enumerate(value if ok else []):
            if not isinstance(item, dict):
                raise ShapeError(f"{field}[{i}]", MAP)
    elif expected == STRS:
        ok = isinstance(value, list)
        for i, item in enumerate(value if ok else []):
            if not isinstance(item, str):
                raise ShapeError(f"{field}[{i}]", STR)
    elif expected in (STR_MAP, QUANTITIES):
        ok = isinstance(value, dict)
        for key, item in value.items() if ok else ():
            _check_entry(field, key, item, expected)
    else:
        ok = _scalar_fits(value, expected)
    if not ok:
        raise ShapeError(field, expected)


def _check_entry(field: str, key: Any, item: Any, expected: str) -> None:
    if not isinstance(key, str):
        raise ShapeError(f"{field}[{key!r}]", expected, "has a key that is not a string")
    entry = f"{field}.{key}"
    if expected == STR_MAP:
        if not isinstance(item, str):
            raise ShapeError(entry, STR)
        return
    if isinstance(item, bool) or not isinstance(item, str | int | float):
        raise ShapeError(entry, "a quantity (e.g. 500m, 2, 4Gi)")
    try:
        parse_quantity(item)
    except ValueError as exc:
        raise ShapeError(entry, "a quantity (e.g. 500m, 2, 4Gi)", f"is invalid: {exc}") from exc


def _scalar_fits(value: Any, expected: str) -> bool:
    if expected == STR:
        return isinstance(value, str)
    if expected == BOOL:
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if expected == INT:
        return isinstance(value, int)
    if expected == INT_OR_STR:
        return isinstance(value, int | str)
    raise AssertionError(f"unknown shape type {expected}")


def _under(prefix: str, entries: tuple[tuple[str, str], ...]) -> tuple[Shape, ...]:
    return tuple(Shape(f"{prefix}.{path}", kind) for path, kind in entries)


# -- the tables ------------------------------------------------------------------------------

METADATA = (
    Shape("metadata", MAP, required=True),
    Shape("metadata.name", STR),
    Shape("metadata.namespace", STR),
    Shape("metadata.labels", STR_MAP),
    Shape("metadata.annotations", STR_MAP),
    Shape("metadata.finalizers", STRS),
    Shape("metadata.ownerReferences", MAPS),
)

_CONTAINER = (
    ("name", STR),
    ("image", STR),
    ("command", STRS),
    ("args", STRS),
    ("ports", MAPS),
    ("ports[].containerPort", INT),
    ("ports[].hostPort", INT),
    ("ports[].protocol", STR),
    ("env", MAPS),
    ("env[].name", STR),
    ("env[].value", STR),
    ("envFrom", MAPS),
    ("volumeMounts", MAPS),
    ("volumeMounts[].name", STR),
    ("volumeMounts[].mountPath", STR),
    ("resources", MAP),
    ("resources.requests", QUANTITIES),
    ("resources.limits", QUANTITIES),
    ("securityContext", MAP),
    ("securityContext.privileged", BOOL),
    ("securityContext.allowPrivilegeEscalation", BOOL),
    ("securityContext.runAsNonRoot", BOOL),
    ("securityContext.runAsUser", INT),
    ("securityContext.procMount", STR),
    ("securityContext.capabilities", MAP),
    ("securityContext.capabilities.add", STRS),
    ("securityContext.capabilities.drop", STRS),
    ("securityContext.seLinuxOptions", MAP),
    ("securityContext.seccompProfile", MAP),
    ("securityContext.appArmorProfile", MAP),
    ("livenessProbe", MAP),
    ("readinessProbe", MAP),
    ("startupProbe", MAP),
    ("lifecycle", MAP),
)

_POD_SPEC = (
    ("containers", MAPS),
    ("initContainers", MAPS),
    ("ephemeralContainers", MAPS),
    ("volumes", MAPS),
    ("volumes[].name", STR),
    ("volumes[].hostPath", MAP),
    ("volumes[].emptyDir", MAP),
    ("volumes[].persistentVolumeClaim", MAP),
    ("volumes[].configMap", MAP),
    ("volumes[].secret", MAP),
    ("volumes[].csi", MAP),
    ("securityContext", MAP),
    ("securityContext.sysctls", MAPS),
    ("securityContext.sysctls[].name", STR),
    ("securityContext.sysctls[].value", STR),
    ("securityContext.seLinuxOptions", MAP),
    ("securityContext.seccompProfile", MAP),
    ("securityContext.appArmorProfile", MAP),
    ("securityContext.runAsUser", INT),
    ("securityContext.runAsNonRoot", BOOL),
    ("tolerations", MAPS),
    ("tolerations[].key", STR),
    ("tolerations[].operator", STR),
    ("tolerations[].effect", STR),
    ("nodeSelector", STR_MAP),
    ("affinity", MAP),
    ("hostNetwork", BOOL),
    ("hostPID", BOOL),
    ("hostIPC", BOOL),
    ("hostUsers", BOOL),
    ("runtimeClassName", STR),
    ("nodeName", STR),
    ("priorityClassName", STR),
    ("serviceAccountName", STR),
    ("restartPolicy", STR),
    ("imagePullSecrets", MAPS),
    ("topologySpreadConstraints", MAPS),
    ("overhead", QUANTITIES),
)


def pod_template(prefix: str) -> tuple[Shape, ...]:
    """A pod template at `prefix` (e.g. `spec.template`): metadata, the pod spec, containers."""
    shapes = [
        Shape(prefix, MAP, required=True),
        Shape(f"{prefix}.metadata", MAP),
        Shape(f"{prefix}.metadata.labels", STR_MAP),
        Shape(f"{prefix}.metadata.annotations", STR_MAP),
        Shape(f"{prefix}.spec", MAP, required=True),
        *_under(f"{prefix}.spec", _POD_SPEC),
    ]
    for containers in ("containers", "initContainers", "ephemeralContainers"):
        shapes.extend(_under(f"{prefix}.spec.{containers}[]", _CONTAINER))
    return tuple(shapes)


def claim_spec(prefix: str) -> tuple[Shape, ...]:
    """A PersistentVolumeClaim's spec at `prefix` (a claim, or a volumeClaimTemplate)."""
    return (
        Shape(f"{prefix}.accessModes", STRS),
        Shape(f"{prefix}.storageClassName", STR),
        Shape(f"{prefix}.volumeMode", STR),
        Shape(f"{prefix}.volumeName", STR),
        Shape(f"{prefix}.selector", MAP),
        Shape(f"{prefix}.resources", MAP),
        Shape(f"{prefix}.resources.requests", QUANTITIES),
        Shape(f"{prefix}.resources.limits", QUANTITIES),
    )


_SPEC = (Shape("spec", MAP, required=True),)
_SELECTOR = (
    Shape("spec.selector", MAP),
    Shape("spec.selector.matchLabels", STR_MAP),
    Shape("spec.selector.matchExpressions", MAPS),
)
_JOB_COUNTS = ("parallelism", "completions", "backoffLimit", "activeDeadlineSeconds")

SHAPES: dict[str, tuple[Shape, ...]] = {
    "Deployment": (
        *METADATA,
        *_SPEC,
        Shape("spec.replicas", INT),
        *_SELECTOR,
        *pod_template("spec.template"),
    ),
    "DaemonSet": (*METADATA, *_SPEC, *_SELECTOR, *pod_template("spec.template")),
    "StatefulSet": (
        *METADATA,
        *_SPEC,
        Shape("spec.replicas", INT),
        Shape("spec.serviceName", STR),
        *_SELECTOR,
        *pod_template("spec.template"),
        Shape("spec.volumeClaimTemplates", MAPS),
        Shape("spec.volumeClaimTemplates[].metadata", MAP),
        Shape("spec.volumeClaimTemplates[].metadata.name", STR),
        Shape("spec.volumeClaimTemplates[].metadata.labels", STR_MAP),
        Shape("spec.volumeClaimTemplates[].spec", MAP),
        *claim_spec("spec.volumeClaimTemplates[].spec"),
    ),
    "Job": (
        *METADATA,
        *_SPEC,
        *(Shape(f"spec.{count}", INT) for count in _JOB_COUNTS),
        *_SELECTOR,
        *pod_template("spec.template"),
    ),
    "CronJob": (
        *METADATA,
        *_SPEC,
        Shape("spec.schedule", STR),
        Shape("spec.suspend", BOOL),
        Shape("spec.jobTemplate", MAP, required=True),
        Shape("spec.jobTemplate.metadata", MAP),
        Shape("spec.jobTemplate.metadata.labels", STR_MAP),
        Shape("spec.jobTemplate.metadata.annotations", STR_MAP),
        Shape("spec.jobTemplate.spec", MAP, required=True),
        *(Shape(f"spec.jobTemplate.spec.{count}", INT) for count in _JOB_COUNTS),
        *pod_template("spec.jobTemplate.spec.template"),
    ),
    "HorizontalPodAutoscaler": (
        *METADATA,
        *_SPEC,
        Shape("spec.scaleTargetRef", MAP, required=True),
        Shape("spec.scaleTargetRef.apiVersion", STR),
        Shape("spec.scaleTargetRef.kind", STR),
        Shape("spec.scaleTargetRef.name", STR, required=True),
        Shape("spec.minReplicas", INT),
        Shape("spec.maxReplicas", INT),
        Shape("spec.targetCPUUtilizationPercentage", INT),
        Shape("spec.metrics", MAPS),
        Shape("spec.behavior", MAP),
    ),
    "Service": (
        *METADATA,
        *_SPEC,
        Shape("spec.type", STR),
        Shape("spec.selector", STR_MAP),
        Shape("spec.clusterIP", STR),
        Shape("spec.externalIPs", STRS),
        Shape("spec.loadBalancerSourceRanges", STRS),
        Shape("spec.ports", MAPS),
        Shape("spec.ports[].name", STR),
        Shape("spec.ports[].protocol", STR),
        Shape("spec.ports[].port", INT),
        Shape("spec.ports[].targetPort", INT_OR_STR),
        Shape("spec.ports[].nodePort", INT),
    ),
    "Ingress": (
        *METADATA,
        *_SPEC,
        Shape("spec.ingressClassName", STR),
        Shape("spec.defaultBackend", MAP),
        Shape("spec.tls", MAPS),
        Shape("spec.tls[].hosts", STRS),
        Shape("spec.tls[].secretName", STR),
        Shape("spec.rules", MAPS),
        Shape("spec.rules[].host", STR),
        Shape("spec.rules[].http", MAP),
        Shape("spec.rules[].http.paths", MAPS),
        Shape("spec.rules[].http.paths[].path", STR),
        Shape("spec.rules[].http.paths[].pathType", STR),
        Shape("spec.rules[].http.paths[].backend", MAP),
        Shape("spec.rules[].http.paths[].backend.service", MAP),
        Shape("spec.rules[].http.paths[].backend.service.name", STR),
        Shape("spec.rules[].http.paths[].backend.service.port", MAP),
        Shape("spec.rules[].http.paths[].backend.service.port.number", INT),
        Shape("spec.rules[].http.paths[].backend.service.port.name", STR),
    ),
    "PersistentVolumeClaim": (*METADATA, *_SPEC, *claim_spec("spec")),
    "ConfigMap": (*METADATA, Shape("data", STR_MAP), Shape("binaryData", STR_MAP)),
    "Secret": (
        *METADATA,
        Shape("type", STR),
        Shape("data", STR_MAP),
        Shape("stringData", STR_MAP),
    ),
}


def check_kind_shape(body: dict[str, Any]) -> None:
    """check_shape with the table of the body's kind (metadata only for other kinds)."""
    check_shape(body, SHAPES.get(str(body.get("kind")), METADATA))
