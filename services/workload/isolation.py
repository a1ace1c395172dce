"""The isolation rules as data, the checker that names the offending field, and Kata forcing.

The same RULES are rendered into the cluster's ValidatingAdmissionPolicy (admission.py), so the
platform's own check and the apiserver's agree: what the API refuses, a direct kubectl is
refused too.

Rule shapes:
- POD_FLAG: a boolean field of the pod spec that must not be true (hostNetwork, ...);
- VOLUME_SOURCE: a volume source that must not be used (hostPath);
- CONTAINER_FLAG: a boolean in a container's securityContext that must not be true;
- CAPABILITIES: securityContext.capabilities.add may only name SAFE_CAPABILITIES;
- RUNTIME_CLASS: runtimeClassName, when set, must be the platform's Kata class;
- POD_PREFIX: a string field of the pod spec must not start with any of `values`;
- POD_UNSET: a field of the pod spec a tenant must not set at all (nodeName);
- HOST_PORT: no container port may name a hostPort;
- PROFILE: securityContext.<field>.type (pod and containers) must not be in `values`;
- PROFILE_ANNOTATION: pod-template annotations with a key in/under `keys` must not be
  `unconfined`;
- CONTAINER_VALUE: a container securityContext field must not be in `values` (procMount);
- SYSCTLS: securityContext.sysctls[].name must be in `values` (the safe set);
- SELINUX: seLinuxOptions (pod and containers) without user/role and with a type in `values`;
- TOLERATE_ALL: no toleration with operator Exists and an empty key;
- TEMPLATE_UNSET: a pod-spec field a workload's pod template must not set (overhead: the Kata
  RuntimeClass sets it on each pod, and the apiserver refuses a pod whose overhead differs);
  Pods themselves carry it from the cluster and are not checked;
- METADATA_UNSET: a metadata field (finalizers, ownerReferences) that a workload, its pod
  template and a CronJob's job template must not set: a finalizer no controller removes wedges
  the deletion of the workload and its namespace, an owner reference lets the garbage collector
  delete the workload behind the platform. `values` are what the cluster itself puts on a
  workload's own metadata (the garbage collector's finalizers while deleting; a CronJob as the
  owner of its Jobs), which only the admission policy lets through. Pods are not checked (their
  controllers set both); companions of a stream are checked on their own metadata.

Together they are the Kubernetes Pod Security "baseline" profile plus the platform's own rules
(Kata only, no nodeName, no inline CSI volumes, no system priority classes, no catch-all
toleration, no pod overhead, no finalizers or owner references).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.workload.exceptions import IsolationViolation
from services.workload.manifests import (
    dig,
    ensure_pod_spec,
    pod_spec,
    pod_spec_path,
    pod_template_path,
)

KATA_RUNTIME_CLASS = "kata"

POD_FLAG = "pod_flag"
VOLUME_SOURCE = "volume_source"
CONTAINER_FLAG = "container_flag"
CAPABILITIES = "capabilities"
RUNTIME_CLASS = "runtime_class"
POD_PREFIX = "pod_prefix"
POD_UNSET = "pod_unset"
HOST_PORT = "host_port"
PROFILE = "profile"
PROFILE_ANNOTATION = "profile_annotation"
CONTAINER_VALUE = "container_value"
SYSCTLS = "sysctls"
SELINUX = "selinux"
TOLERATE_ALL = "tolerate_all"
TEMPLATE_UNSET = "template_unset"
METADATA_UNSET = "metadata_unset"

# Sysctls the Pod Security "baseline" profile allows (namespaced, isolated per pod).
SAFE_SYSCTLS: tuple[str, ...] = (
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
)
# SELinux types of the container_t family (baseline); user and role may not be set at all.
SAFE_SELINUX_TYPES: tuple[str, ...] = (
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
)
SECCOMP_POD_ANNOTATION = "seccomp.security.alpha.kubernetes.io/pod"
SECCOMP_CONTAINER_ANNOTATION = "container.seccomp.security.alpha.kubernetes.io/"
APPARMOR_CONTAINER_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"
UNCONFINED_ANNOTATION = "unconfined"

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
    values: tuple[str, ...] = ()  # the refused or allowed values, by shape


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
    Rule(
        "system_priority_class",
        POD_PREFIX,
        "priorityClassName",
        "system priority classes (system-*) are reserved for the platform",
        ("system-",),
    ),
    Rule(
        "node_name",
        POD_UNSET,
        "nodeName",
        "nodeName bypasses the scheduler, cordons and GPU placement; "
        "use the scheduling policy (node selector, affinity, tolerations) instead",
    ),
    Rule("host_port", HOST_PORT, "hostPort", "hostPort is not allowed"),
    Rule(
        "seccomp_unconfined",
        PROFILE,
        "seccompProfile",
        "seccomp profile Unconfined is not allowed",
        ("Unconfined",),
    ),
    Rule(
        "apparmor_unconfined",
        PROFILE,
        "appArmorProfile",
        "AppArmor profile Unconfined is not allowed",
        ("Unconfined",),
    ),
    Rule(
        "unconfined_annotation",
        PROFILE_ANNOTATION,
        "annotations",
        "seccomp/AppArmor annotations may not be unconfined",
        (SECCOMP_POD_ANNOTATION, SECCOMP_CONTAINER_ANNOTATION, APPARMOR_CONTAINER_ANNOTATION),
    ),
    Rule(
        "proc_mount",
        CONTAINER_VALUE,
        "procMount",
        "procMount Unmasked is not allowed",
        ("Unmasked",),
    ),
    Rule(
        "unsafe_sysctl",
        SYSCTLS,
        "sysctls",
        "only these sysctls may be set: " + ", ".join(SAFE_SYSCTLS),
        SAFE_SYSCTLS,
    ),
    Rule(
        "selinux",
        SELINUX,
        "seLinuxOptions",
        "seLinuxOptions may not set user or role, and type only to "
        + ", ".join(SAFE_SELINUX_TYPES),
        SAFE_SELINUX_TYPES,
    ),
    Rule("csi_volume", VOLUME_SOURCE, "csi", "inline CSI volumes are not allowed"),
    Rule(
        "tolerate_all",
        TOLERATE_ALL,
        "tolerations",
        "a toleration with operator Exists needs a key (an empty key tolerates every taint)",
    ),
    Rule(
        "pod_overhead",
        TEMPLATE_UNSET,
        "overhead",
        f"the pod overhead is set from the {KATA_RUNTIME_CLASS} runtime class, and a pod whose "
        "overhead differs from it is refused; leave overhead out",
    ),
    Rule(
        "finalizers",
        METADATA_UNSET,
        "finalizers",
        "finalizers are not allowed on workloads and their templates: one that no controller "
        "removes blocks the deletion of the workload and its namespace",
        ("foregroundDeletion", "orphan"),
    ),
    Rule(
        "owner_references",
        METADATA_UNSET,
        "ownerReferences",
        "ownerReferences are not allowed on workloads and their templates: they let the garbage "
        "collector delete the workload behind the platform",
        ("CronJob",),
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
    kind = str(body.get("kind"))
    prefix = ".".join(pod_spec_path(kind))
    found: list[Violation] = []
    for rule in RULES:
        if rule.shape == PROFILE_ANNOTATION:
            found.extend(_annotations(rule, body, kind))
        elif rule.shape in (TEMPLATE_UNSET, METADATA_UNSET):
            if kind != "Pod":  # a Pod carries both from its controller and the cluster
                found.extend(_workload_only(rule, body, spec, prefix))
        else:
            found.extend(_check(rule, spec, prefix))
    return found


def metadata_violations(body: dict[str, Any]) -> list[Violation]:
    """The metadata rules on an object's own metadata (companions, HPAs)."""
    metadata = body.get("metadata")
    if not isinstance(metadata, dict):
        return []
    return [
        Violation(rule.name, f"metadata.{rule.field}", rule.reason)
        for rule in RULES
        if rule.shape == METADATA_UNSET and _set(metadata.get(rule.field))
    ]


def check(body: dict[str, Any], document: int | None = None) -> None:
    """Raise IsolationViolation naming the first offending field (all of them in details)."""
    _raise(violations(body), document)


def check_metadata(body: dict[str, Any], document: int | None = None) -> None:
    """For objects that are not workloads: no finalizers or ownerReferences of their own."""
    _raise(metadata_violations(body), document)


def _raise(found: list[Violation], document: int | None) -> None:
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


def metadata_paths(kind: str) -> list[tuple[str, ...]]:
    """The metadata a workload of `kind` carries: its own, its job template's, its pods'."""
    paths: list[tuple[str, ...]] = [("metadata",)]
    if kind == "CronJob":
        paths.append(("spec", "jobTemplate", "metadata"))
    paths.append(pod_template_path(kind) + ("metadata",))
    return paths


def _workload_only(
    rule: Rule, body: dict[str, Any], spec: dict[str, Any], prefix: str
) -> list[Violation]:
    if rule.shape == TEMPLATE_UNSET:
        return _unset(rule, spec, prefix)
    found = []
    for path in metadata_paths(str(body.get("kind"))):
        metadata = dig(body, path)
        if isinstance(metadata, dict) and _set(metadata.get(rule.field)):
            found.append(Violation(rule.name, ".".join(path + (rule.field,)), rule.reason))
    return found


def _set(value: Any) -> bool:
    return value not in (None, "", [], {})


def force_kata(body: dict[str, Any]) -> None:
    """Set the platform's runtime class on the pod template (after `check` passed)."""
    ensure_pod_spec(body)["runtimeClassName"] = KATA_RUNTIME_CLASS


def _check(rule: Rule, spec: dict[str, Any], prefix: str) -> list[Violation]:
    checker = {
        POD_FLAG: _flag,
        VOLUME_SOURCE: _volumes,
        RUNTIME_CLASS: _runtime_class,
        POD_PREFIX: _prefixed,
        POD_UNSET: _unset,
        HOST_PORT: _host_ports,
        PROFILE: _profiles,
        SYSCTLS: _sysctls,
        SELINUX: _selinux,
        TOLERATE_ALL: _tolerate_all,
    }.get(rule.shape, _containers)
    return checker(rule, spec, prefix)


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
            if rule.shape == CONTAINER_VALUE and context.get(rule.field) in rule.values:
                reason = f"{rule.reason} (got {context.get(rule.field)!r})"
                found.append(Violation(rule.name, f"{path}.{rule.field}", reason))
    return found


def _prefixed(rule: Rule, spec: dict[str, Any], prefix: str) -> list[Violation]:
    value = spec.get(rule.field)
    if isinstance(value, str) and value.startswith(rule.values):
        return [Violation(rule.name, f"{prefix}.{rule.field}", f"{rule.reason} (got {value!r})")]
    return []


def _unset(rule: Rule, spec: dict[str, Any], prefix: str) -> list[Violation]:
    if spec.get(rule.field) in (None, ""):
        return []
    return [Violation(rule.name, f"{prefix}.{rule.field}", rule.reason)]


def _host_ports(rule: Rule, spec: dict[str, Any], prefix: str) -> list[Violation]:
    found = []
    for list_name, i, container in _each_container(spec):
        for j, port in enumerate(container.get("ports") or []):
            if isinstance(port, dict) and port.get(rule.field) not in (None, 0):
                path = f"{prefix}.{list_name}[{i}].ports[{j}].{rule.field}"
                found.append(Violation(rule.name, path, rule.reason))
    return found


def _contexts(spec: dict[str, Any], prefix: str) -> list[tuple[str, dict[str, Any]]]:
    """The pod's securityContext and every container's, each with its path."""
    found = []
    if isinstance(spec.get("securityContext"), dict):
        found.append((f"{prefix}.securityContext", spec["securityContext"]))
    for list_name, i, container in _each_container(spec):
        if isinstance(container.get("securityContext"), dict):
            path = f"{prefix}.{list_name}[{i}].securityContext"
            found.append((path, container["securityContext"]))
    return found


def _profiles(rule: Rule, spec: dict[str, Any], prefix: str) -> list[Violation]:
    found = []
    for path, context in _contexts(spec, prefix):
        profile = context.get(rule.field)
        if isinstance(profile, dict) and profile.get("type") in rule.values:
            found.append(Violation(rule.name, f"{path}.{rule.field}.type", rule.reason))
    return found


def _sysctls(rule: Rule, spec: dict[str, Any], prefix: str) -> list[Violation]:
    context = spec.get("securityContext")
    if not isinstance(context, dict):
        return []
    return [
        Violation(
            rule.name,
            f"{prefix}.securityContext.sysctls[{i}].name",
            f"{sysctl.get('name')}: {rule.reason}",
        )
        for i, sysctl in enumerate(context.get("sysctls") or [])
        if isinstance(sysctl, dict) and sysctl.get("name") not in rule.values
    ]


def _selinux(rule: Rule, spec: dict[str, Any], prefix: str) -> list[Violation]:
    found = []
    for path, context in _contexts(spec, prefix):
        options = context.get(rule.field)
        if not isinstance(options, dict):
            continue
        for key in ("user", "role"):
            if options.get(key):
                found.append(Violation(rule.name, f"{path}.{rule.field}.{key}", rule.reason))
        if options.get("type") and options["type"] not in rule.values:
            found.append(Violation(rule.name, f"{path}.{rule.field}.type", rule.reason))
    return found


def _tolerate_all(rule: Rule, spec: dict[str, Any], prefix: str) -> list[Violation]:
    return [
        Violation(rule.name, f"{prefix}.{rule.field}[{i}]", rule.reason)
        for i, toleration in enumerate(spec.get(rule.field) or [])
        if isinstance(toleration, dict)
        and toleration.get("operator") == "Exists"
        and not toleration.get("key")
    ]


def _annotations(rule: Rule, body: dict[str, Any], kind: str) -> list[Violation]:
    path = pod_template_path(kind) + ("metadata",)
    annotations = dig(body, path + ("annotations",))
    if not isinstance(annotations, dict):
        return []
    where = ".".join(path + ("annotations",))
    return [
        Violation(rule.name, f"{where}[{key}]", rule.reason)
        for key, value in annotations.items()
        if _profile_key(key, rule.values) and str(value).lower() == UNCONFINED_ANNOTATION
    ]


def _profile_key(key: str, keys: tuple[str, ...]) -> bool:
    return any(key == k or (k.endswith("/") and key.startswith(k)) for k in keys)


def _each_container(spec: dict[str, Any]) -> list[tuple[str, int, dict[str, Any]]]:
    return [
        (list_name, i, container)
        for list_name in CONTAINER_LISTS
        for i, container in enumerate(spec.get(list_name) or [])
        if isinstance(container, dict)
    ]


def _capabilities(rule: Rule, context: dict[str, Any], path: str) -> list[Violation]:
    added = (context.get("capabilities") or {}).get(rule.field) or []
    return [
        Violation(rule.name, f"{path}.capabilities.add[{j}]", f"{cap}: {rule.reason}")
        for j, cap in enumerate(added)
        if cap not in SAFE_CAPABILITIES
    ]
