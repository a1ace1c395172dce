"""The isolation rules as data, the checker that names the offending field, and Kata forcing.

The same RULES are rendered into the cluster's ValidatingAdmissionPolicy (admission.py), so the
platform's own check and the apiserver's agree: what the API refuses, a direct kubectl is
refused too.

Rule shapes:
- POD_FLAG: a boolean field of the pod spec that must not be true (hostNetwork, ...);
- VOLUME_SOURCE: a volume source that must not be used (hostPath);
- CONTAINER_FLAG: a boolean in a container's securityContext that must not be true;
- CAPABILITIES: securityContext.capabilities.add may only name SAFE_CAPABILITIES;
- RUNTIME_CLASS: runtimeClassName, when set, must be the platform's Kata class.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.workload.exceptions import IsolationViolation
from services.workload.manifests import ensure_pod_spec, pod_spec, pod_spec_path

KATA_RUNTIME_CLASS = "kata"

POD_FLAG = "pod_flag"
VOLUME_SOURCE = "volume_source"
CONTAINER_FLAG = "container_flag"
CAPABILITIES = "capabilities"
RUNTIME_CLASS = "runtime_class"

# Capabilities the Pod Security "baseline" profile allows; anything else is refused.
SAFE_CAPABILITIES: tuple[str, ...] = (
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
)
CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")


@dataclass(frozen=True)
class Rule:
    name: str
    shape: str
    field: str  # the field inside the pod spec / volume / securityContext
    reason: str


RULES: tuple[Rule, ...] = (
    Rule("host_network", POD_FLAG, "hostNetwork", "host network namespace is not allowed"),
    Rule("host_pid", POD_FLAG, "hostPID", "host PID namespace is not allowed"),
    Rule("host_ipc", POD_FLAG, "hostIPC", "host IPC namespace is not allowed"),
    Rule("host_path", VOLUME_SOURCE, "hostPath", "hostPath volumes are not allowed"),
    Rule("privileged", CONTAINER_FLAG, "privileged", "privileged containers are not allowed"),
    Rule(
        "capabilities",
        CAPABILITIES,
        "add",
        "only these capabilities may be added: " + ", ".join(SAFE_CAPABILITIES),
    ),
    Rule(
        "runtime_class",
        RUNTIME_CLASS,
        "runtimeClassName",
        f'pods run in the "{KATA_RUNTIME_CLASS}" runtime class only',
    ),
)


@dataclass(frozen=True)
class Violation:
    rule: str
    field: str  # full path from the object's root, e.g. spec.template.spec.volumes[0].hostPath
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "field": self.field, "reason": self.reason}


def violations(body: dict[str, Any]) -> list[Violation]:
    """Every rule a workload object breaks, each with the path of the offending field."""
    spec = pod_spec(body)
    prefix = ".".join(pod_spec_path(str(body.get("kind"))))
    found: list[Violation] = []
    for rule in RULES:
        found.extend(_check(rule, spec, prefix))
    return found


def check(body: dict[str, Any], document: int | None = None) -> None:
    """Raise IsolationViolation naming the first offending field (all of them in details)."""
    found = violations(body)
    if not found:
        return
    first = found[0]
    where = f"document {document}: " if document is not None else ""
    raise IsolationViolation(
        f"{where}{first.field}: {first.reason}",
        {
            "field": first.field,
            "rule": first.rule,
            "document": document,
            "violations": [v.to_dict() for v in found],
        },
    )


def force_kata(body: dict[str, Any]) -> None:
    """Set the platform's runtime class on the pod template (after `check` passed)."""
    ensure_pod_spec(body)["runtimeClassName"] = KATA_RUNTIME_CLASS


def _check(rule: Rule, spec: dict[str, Any], prefix: str) -> list[Violation]:
    if rule.shape == POD_FLAG:
        return _flag(rule, spec, prefix)
    if rule.shape == VOLUME_SOURCE:
        return _volumes(rule, spec, prefix)
    if rule.shape == RUNTIME_CLASS:
        return _runtime_class(rule, spec, prefix)
    return _containers(rule, spec, prefix)


def _flag(rule: Rule, spec: dict[str, Any], prefix: str) -> list[Violation]:
    if spec.get(rule.field) is True:
        return [Violation(rule.name, f"{prefix}.{rule.field}", rule.reason)]
    return []


def _volumes(rule: Rule, spec: dict[str, Any], prefix: str) -> list[Violation]:
    found = []
    for i, volume in enumerate(spec.get("volumes") or []):
        if isinstance(volume, dict) and volume.get(rule.field) is not None:
            found.append(Violation(rule.name, f"{prefix}.volumes[{i}].{rule.field}", rule.reason))
    return found


def _runtime_class(rule: Rule, spec: dict[str, Any], prefix: str) -> list[Violation]:
    value = spec.get(rule.field)
    if value is None or value == KATA_RUNTIME_CLASS:
        return []
    return [Violation(rule.name, f"{prefix}.{rule.field}", f"{rule.reason} (got {value!r})")]


def _containers(rule: Rule, spec: dict[str, Any], prefix: str) -> list[Violation]:
    found = []
    for list_name in CONTAINER_LISTS:
        for i, container in enumerate(spec.get(list_name) or []):
            context = container.get("securityContext") if isinstance(container, dict) else None
            if not isinstance(context, dict):
                continue
            path = f"{prefix}.{list_name}[{i}].securityContext"
            if rule.shape == CONTAINER_FLAG and context.get(rule.field) is True:
                found.append(Violation(rule.name, f"{path}.{rule.field}", rule.reason))
            if rule.shape == CAPABILITIES:
                found.extend(_capabilities(rule, context, path))
    return found


def _capabilities(rule: Rule, context: dict[str, Any], path: str) -> list[Violation]:
    added = (context.get("capabilities") or {}).get(rule.field) or []
    return [
        Violation(rule.name, f"{path}.capabilities.add[{j}]", f"{cap}: {rule.reason}")
        for j, cap in enumerate(added)
        if cap not in SAFE_CAPABILITIES
    ]
