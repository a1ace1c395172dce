"""The isolation rules (isolation.RULES) rendered as a ValidatingAdmissionPolicy and binding.

Installed by the service at start (idempotently, see cluster.ensure_admission_policy) and bound
to namespaces labelled `scs.io/tenant=true`, so a direct kubectl or client call into a tenant
namespace is refused by the apiserver for the same reasons the API refuses it.
"""

from __future__ import annotations

from typing import Any

from services.workload.isolation import (
    CAPABILITIES,
    CONTAINER_FLAG,
    CONTAINER_VALUE,
    HOST_PORT,
    KATA_RUNTIME_CLASS,
    METADATA_UNSET,
    POD_FLAG,
    POD_PREFIX,
    POD_UNSET,
    PROFILE,
    PROFILE_ANNOTATION,
    RULES,
    RUNTIME_CLASS,
    SAFE_CAPABILITIES,
    SELINUX,
    SYSCTLS,
    TEMPLATE_UNSET,
    TOLERATE_ALL,
    UNCONFINED_ANNOTATION,
    VOLUME_SOURCE,
    Rule,
)

POLICY_NAME = "scs-tenant-isolation"
BINDING_NAME = "scs-tenant-isolation"
TENANT_LABEL = "scs.io/tenant"

_POD_SPEC = (
    "object.kind == 'Pod' ? object.spec : "
    "(object.kind == 'CronJob' ? object.spec.jobTemplate.spec.template.spec : "
    "object.spec.template.spec)"
)
_CONTAINERS = (
    "variables.spec.containers"
    " + (has(variables.spec.initContainers) ? variables.spec.initContainers : [])"
    " + (has(variables.spec.ephemeralContainers) ? variables.spec.ephemeralContainers : [])"
)
_POD_META = (
    "object.kind == 'Pod' ? object.metadata : "
    "(object.kind == 'CronJob' ? object.spec.jobTemplate.spec.template.metadata : "
    "object.spec.template.metadata)"
)
_WHERE = (
    "(object.kind == 'Pod' ? 'spec' : (object.kind == 'CronJob' ? "
    "'spec.jobTemplate.spec.template.spec' : 'spec.template.spec'))"
)

_META_WHERE = (
    "(object.kind == 'Pod' ? 'metadata' : (object.kind == 'CronJob' ? "
    "'spec.jobTemplate.spec.template.metadata' : 'spec.template.metadata'))"
)


def expression(rule: Rule) -> str:
    """The CEL expression that is true when the object keeps `rule`."""
    field = rule.field
    if rule.shape == POD_FLAG:
        return f"!has(variables.spec.{field}) || variables.spec.{field} != true"
    if rule.shape == VOLUME_SOURCE:
        return f"!has(variables.spec.volumes) || variables.spec.volumes.all(v, !has(v.{field}))"
    if rule.shape == RUNTIME_CLASS:
        return f"has(variables.spec.{field}) && variables.spec.{field} == '{KATA_RUNTIME_CLASS}'"
    if rule.shape == CONTAINER_FLAG:
        return (
            "variables.containers.all(c, !has(c.securityContext) || "
            f"!has(c.securityContext.{field}) || c.securityContext.{field} != true)"
        )
    if rule.shape == CAPABILITIES:
        safe = ", ".join(f"'{cap}'" for cap in SAFE_CAPABILITIES)
        return (
            "variables.containers.all(c, !has(c.securityContext) || "
            "!has(c.securityContext.capabilities) || "
            f"!has(c.securityContext.capabilities.{field}) || "
            f"c.securityContext.capabilities.{field}.all(x, x in [{safe}]))"
        )
    renderer = _RENDERERS.get(rule.shape)
    if renderer is None:
        raise ValueError(f"no CEL rendering for rule shape {rule.shape}")
    return renderer(rule)


def _list(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(f"'{value}'" for value in values) + "]"


def _prefix(rule: Rule) -> str:
    field = f"variables.spec.{rule.field}"
    refused = " || ".join(f"{field}.startsWith('{value}')" for value in rule.values)
    return f"!has({field}) || !({refused})"


def _unset(rule: Rule) -> str:
    # A scheduled pod carries nodeName (set through pods/binding); updates of it stay allowed.
    field = f"variables.spec.{rule.field}"
    return (
        "(object.kind == 'Pod' && request.operation != 'CREATE') || "
        f"!has({field}) || {field} == ''"
    )


def _host_port(rule: Rule) -> str:
    return (
        "variables.containers.all(c, !has(c.ports) || "
        f"c.ports.all(p, !has(p.{rule.field}) || p.{rule.field} == 0))"
    )


def _profile_of(subject: str, rule: Rule) -> str:
    return (
        f"(!has({subject}.securityContext) || !has({subject}.securityContext.{rule.field}) || "
        f"!({subject}.securityContext.{rule.field}.type in {_list(rule.values)}))"
    )


def _profile(rule: Rule) -> str:
    return (
        f"{_profile_of('variables.spec', rule)} && "
        f"variables.containers.all(c, {_profile_of('c', rule)})"
    )


def _profile_annotation(rule: Rule) -> str:
    keys = " || ".join(
        f"k.startsWith('{key}')" if key.endswith("/") else f"k == '{key}'" for key in rule.values
    )
    return (
        "!has(variables.meta.annotations) || variables.meta.annotations.all(k, "
        f"!({keys}) || variables.meta.annotations[k].lowerAscii() != '{UNCONFINED_ANNOTATION}')"
    )


def _container_value(rule: Rule) -> str:
    return (
        "variables.containers.all(c, !has(c.securityContext) || "
        f"!has(c.securityContext.{rule.field}) || "
        f"!(c.securityContext.{rule.field} in {_list(rule.values)}))"
    )


def _sysctls(rule: Rule) -> str:
    return (
        "!has(variables.spec.securityContext) || "
        f"!has(variables.spec.securityContext.{rule.field}) || "
        f"variables.spec.securityContext.{rule.field}.all(s, s.name in {_list(rule.values)})"
    )


def _selinux_of(subject: str, rule: Rule) -> str:
    options = f"{subject}.securityContext.{rule.field}"
    return (
        f"(!has({subject}.securityContext) || !has({options}) || ("
        f"(!has({options}.user) || {options}.user == '') && "
        f"(!has({options}.role) || {options}.role == '') && "
        f"(!has({options}.type) || {options}.type == '' || "
        f"{options}.type in {_list(rule.values)})))"
    )


def _selinux(rule: Rule) -> str:
    return (
        f"{_selinux_of('variables.spec', rule)} && "
        f"variables.containers.all(c, {_selinux_of('c', rule)})"
    )


def _tolerate_all(rule: Rule) -> str:
    return (
        f"!has(variables.spec.{rule.field}) || variables.spec.{rule.field}.all(t, "
        "!has(t.operator) || t.operator != 'Exists' || (has(t.key) && t.key != ''))"
    )


def _template_unset(rule: Rule) -> str:
    # A Pod gets it from the cluster (the RuntimeClass admission sets the overhead).
    return f"object.kind == 'Pod' || !has(variables.spec.{rule.field})"


def _metadata_unset(rule: Rule) -> str:
    """None on the templates; on the object itself only what the cluster puts there (the
    rule's values) or what the object already carried (an update must not wedge on an object
    made before the rule). Pods are not checked: their controllers set both fields."""
    field = rule.field
    if field == "ownerReferences":
        allowed = f"(object.kind == 'Job' && has(x.kind) && x.kind in {_list(rule.values)})"
    else:
        allowed = f"x in {_list(rule.values)}"
    kept = (
        f"(request.operation == 'UPDATE' && has(oldObject.metadata.{field}) && "
        f"x in oldObject.metadata.{field})"
    )
    own = f"(!has(object.metadata.{field}) || object.metadata.{field}.all(x, {allowed} || {kept}))"
    pods = f"(!has(variables.meta.{field}) || size(variables.meta.{field}) == 0)"
    jobs = (
        "(object.kind != 'CronJob' || !has(object.spec.jobTemplate.metadata) || "
        f"!has(object.spec.jobTemplate.metadata.{field}) || "
        f"size(object.spec.jobTemplate.metadata.{field}) == 0)"
    )
    return f"object.kind == 'Pod' || ({own} && {pods} && {jobs})"


_RENDERERS = {
    POD_PREFIX: _prefix,
    POD_UNSET: _unset,
    HOST_PORT: _host_port,
    PROFILE: _profile,
    PROFILE_ANNOTATION: _profile_annotation,
    CONTAINER_VALUE: _container_value,
    SYSCTLS: _sysctls,
    SELINUX: _selinux,
    TOLERATE_ALL: _tolerate_all,
    TEMPLATE_UNSET: _template_unset,
    METADATA_UNSET: _metadata_unset,
}


def message_expression(rule: Rule) -> str:
    subject = {
        POD_FLAG: f"'.{rule.field}'",
        VOLUME_SOURCE: f"'.volumes[].{rule.field}'",
        RUNTIME_CLASS: f"'.{rule.field}'",
        CONTAINER_FLAG: f"'.containers[].securityContext.{rule.field}'",
        CAPABILITIES: "'.containers[].securityContext.capabilities.add'",
        POD_PREFIX: f"'.{rule.field}'",
        POD_UNSET: f"'.{rule.field}'",
        HOST_PORT: f"'.containers[].ports[].{rule.field}'",
        PROFILE: f"'[.containers[]].securityContext.{rule.field}.type'",
        PROFILE_ANNOTATION: f"'.{rule.field}'",
        CONTAINER_VALUE: f"'.containers[].securityContext.{rule.field}'",
        SYSCTLS: f"'.securityContext.{rule.field}[].name'",
        SELINUX: f"'[.containers[]].securityContext.{rule.field}'",
        TOLERATE_ALL: f"'.{rule.field}[]'",
        TEMPLATE_UNSET: f"'.{rule.field}'",
        METADATA_UNSET: f"'.{rule.field}'",
    }[rule.shape]
    reason = rule.reason.replace("'", "\\'")
    where = _META_WHERE if rule.shape == PROFILE_ANNOTATION else _WHERE
    if rule.shape == METADATA_UNSET:
        where = f"'metadata.{rule.field} or ' + {_META_WHERE}"
    return f"{where} + {subject} + ': {reason}'"


def policy() -> dict[str, Any]:
    """The ValidatingAdmissionPolicy object (admissionregistration.k8s.io/v1)."""
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": POLICY_NAME, "labels": {"scs.io/managed": "true"}},
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {
                "resourceRules": [
                    _resource_rule("", ["pods"]),
                    _resource_rule("apps", ["deployments", "statefulsets", "daemonsets"]),
                    _resource_rule("batch", ["jobs", "cronjobs"]),
                ]
            },
            "variables": [
                {"name": "spec", "expression": _POD_SPEC},
                {"name": "containers", "expression": _CONTAINERS},
                {"name": "meta", "expression": _POD_META},
            ],
            "validations": [
                {
                    "expression": expression(rule),
                    "messageExpression": message_expression(rule),
                    "reason": "Forbidden",
                }
                for rule in RULES
            ],
        },
    }


def binding() -> dict[str, Any]:
    """Binds the policy to tenant namespaces, denying what it refuses."""
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": BINDING_NAME, "labels": {"scs.io/managed": "true"}},
        "spec": {
            "policyName": POLICY_NAME,
            "validationActions": ["Deny"],
            "matchResources": {
                "namespaceSelector": {"matchLabels": {TENANT_LABEL: "true"}},
            },
        },
    }


def _resource_rule(group: str, resources: list[str]) -> dict[str, Any]:
    return {
        "apiGroups": [group],
        "apiVersions": ["*"],
        "operations": ["CREATE", "UPDATE"],
        "resources": resources,
    }
