"""The isolation rules and their admission-policy rendering (pure functions, nothing faked)."""

import copy

import pytest

from services.workload import admission, isolation
from services.workload.exceptions import IsolationViolation

DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web"},
    "spec": {
        "template": {
            "spec": {
                "containers": [{"name": "app", "image": "nginx"}],
            }
        }
    },
}


def _with(path_value: tuple[tuple[str, ...], object], base: dict = DEPLOYMENT) -> dict:
    body = copy.deepcopy(base)
    path, value = path_value
    node = body
    for key in path[:-1]:
        node = node[key] if not isinstance(node, list) else node[int(key)]
    node[path[-1]] = value
    return body


SPEC = ("spec", "template", "spec")


@pytest.mark.parametrize(
    "change, field",
    [
        ((SPEC + ("hostNetwork",), True), "spec.template.spec.hostNetwork"),
        ((SPEC + ("hostPID",), True), "spec.template.spec.hostPID"),
        ((SPEC + ("hostIPC",), True), "spec.template.spec.hostIPC"),
        (
            (SPEC + ("volumes",), [{"name": "h", "hostPath": {"path": "/"}}]),
            "spec.template.spec.volumes[0].hostPath",
        ),
        ((SPEC + ("runtimeClassName",), "runc"), "spec.template.spec.runtimeClassName"),
    ],
)
def test_each_pod_rule_names_its_field(change: tuple, field: str) -> None:
    with pytest.raises(IsolationViolation) as caught:
        isolation.check(_with(change))

    assert caught.value.details["field"] == field
    assert caught.value.http_status == 422
    assert field in caught.value.message


def test_privileged_container_is_refused_with_its_index() -> None:
    body = copy.deepcopy(DEPLOYMENT)
    body["spec"]["template"]["spec"]["initContainers"] = [
        {"name": "i", "image": "x", "securityContext": {"privileged": True}}
    ]
    with pytest.raises(IsolationViolation) as caught:
        isolation.check(body)
    expected = "spec.template.spec.initContainers[0].securityContext.privileged"
    assert caught.value.details["field"] == expected


def test_only_safe_capabilities_may_be_added() -> None:
    body = copy.deepcopy(DEPLOYMENT)
    body["spec"]["template"]["spec"]["containers"][0]["securityContext"] = {
        "capabilities": {"add": ["NET_BIND_SERVICE", "SYS_ADMIN"]}
    }
    found = isolation.violations(body)
    assert [v.field for v in found] == [
        "spec.template.spec.containers[0].securityContext.capabilities.add[1]"
    ]


def test_cronjob_paths_go_through_the_job_template() -> None:
    body = {
        "kind": "CronJob",
        "metadata": {"name": "c"},
        "spec": {"jobTemplate": {"spec": {"template": {"spec": {"hostNetwork": True}}}}},
    }
    assert [v.field for v in isolation.violations(body)] == [
        "spec.jobTemplate.spec.template.spec.hostNetwork"
    ]


def test_every_violation_is_listed_in_details() -> None:
    body = _with((SPEC + ("hostPID",), True))
    body["spec"]["template"]["spec"]["hostNetwork"] = True
    with pytest.raises(IsolationViolation) as caught:
        isolation.check(body, document=2)
    assert {v["rule"] for v in caught.value.details["violations"]} == {"host_network", "host_pid"}
    assert caught.value.details["document"] == 2


def test_kata_is_forced_and_an_explicit_kata_passes() -> None:
    body = copy.deepcopy(DEPLOYMENT)
    isolation.force_kata(body)
    assert body["spec"]["template"]["spec"]["runtimeClassName"] == "kata"
    isolation.check(body)


def test_policy_has_one_validation_per_rule_bound_to_tenant_namespaces() -> None:
    policy, binding = admission.policy(), admission.binding()

    assert len(policy["spec"]["validations"]) == len(isolation.RULES)
    assert binding["spec"]["policyName"] == policy["metadata"]["name"]
    selector = binding["spec"]["matchResources"]["namespaceSelector"]["matchLabels"]
    assert selector == {"scs.io/tenant": "true"}
    expressions = " ".join(v["expression"] for v in policy["spec"]["validations"])
    for rule in isolation.RULES:
        assert rule.field in expressions
