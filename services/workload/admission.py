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
    KATA_RUNTIME_CLASS,
    POD_FLAG,
    RULES,
    RUNTIME_CLASS,
    SAFE_CAPABILITIES,
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
_WHERE = (
    "(object.kind == 'Pod' ? 'spec' : (object.kind == 'CronJob' ? "
    "'spec.jobTemplate.spec.template.spec' : 'spec.template.spec'))"
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
    raise ValueError(f"no CEL rendering for rule shape {rule.shape}")


def message_expression(rule: Rule) -> str:
    subject = {
        POD_FLAG: f"'.{rule.field}'",
        VOLUME_SOURCE: f"'.volumes[].{rule.field}'",
        RUNTIME_CLASS: f"'.{rule.field}'",
        CONTAINER_FLAG: f"'.containers[].securityContext.{rule.field}'",
        CAPABILITIES: "'.containers[].securityContext.capabilities.add'",
    }[rule.shape]
    reason = rule.reason.replace("'", "\\'")
    return f"{_WHERE} + {subject} + ': {reason}'"


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
