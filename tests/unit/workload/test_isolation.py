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


C0 = SPEC + ("containers", "0")


@pytest.mark.parametrize(
    "change, rule, field",
    [
        (
            (SPEC + ("priorityClassName",), "system-node-critical"),
            "system_priority_class",
            "spec.template.spec.priorityClassName",
        ),
        (
            (SPEC + ("priorityClassName",), "system-anything"),
            "system_priority_class",
            "spec.template.spec.priorityClassName",
        ),
        ((SPEC + ("nodeName",), "gpu-t4-0"), "node_name", "spec.template.spec.nodeName"),
        (
            (C0 + ("ports",), [{"containerPort": 80}, {"containerPort": 81, "hostPort": 81}]),
            "host_port",
            "spec.template.spec.containers[0].ports[1].hostPort",
        ),
        (
            (SPEC + ("securityContext",), {"seccompProfile": {"type": "Unconfined"}}),
            "seccomp_unconfined",
            "spec.template.spec.securityContext.seccompProfile.type",
        ),
        (
            (C0 + ("securityContext",), {"seccompProfile": {"type": "Unconfined"}}),
            "seccomp_unconfined",
            "spec.template.spec.containers[0].securityContext.seccompProfile.type",
        ),
        (
            (SPEC + ("securityContext",), {"appArmorProfile": {"type": "Unconfined"}}),
            "apparmor_unconfined",
            "spec.template.spec.securityContext.appArmorProfile.type",
        ),
        (
            (C0 + ("securityContext",), {"appArmorProfile": {"type": "Unconfined"}}),
            "apparmor_unconfined",
            "spec.template.spec.containers[0].securityContext.appArmorProfile.type",
        ),
        (
            (C0 + ("securityContext",), {"procMount": "Unmasked"}),
            "proc_mount",
            "spec.template.spec.containers[0].securityContext.procMount",
        ),
        (
            (
                SPEC + ("securityContext",),
                {
                    "sysctls": [
                        {"name": "net.ipv4.tcp_syncookies", "value": "1"},
                        {"name": "kernel.msgmax", "value": "1"},
                    ]
                },
            ),
            "unsafe_sysctl",
            "spec.template.spec.securityContext.sysctls[1].name",
        ),
        (
            (SPEC + ("securityContext",), {"seLinuxOptions": {"user": "system_u"}}),
            "selinux",
            "spec.template.spec.securityContext.seLinuxOptions.user",
        ),
        (
            (C0 + ("securityContext",), {"seLinuxOptions": {"role": "sysadm_r"}}),
            "selinux",
            "spec.template.spec.containers[0].securityContext.seLinuxOptions.role",
        ),
        (
            (C0 + ("securityContext",), {"seLinuxOptions": {"type": "spc_t"}}),
            "selinux",
            "spec.template.spec.containers[0].securityContext.seLinuxOptions.type",
        ),
        (
            (SPEC + ("volumes",), [{"name": "v", "csi": {"driver": "x.example"}}]),
            "csi_volume",
            "spec.template.spec.volumes[0].csi",
        ),
        (
            (
                SPEC + ("tolerations",),
                [{"key": "a", "operator": "Exists"}, {"operator": "Exists"}],
            ),
            "tolerate_all",
            "spec.template.spec.tolerations[1]",
        ),
        (
            (
                ("spec", "template", "metadata"),
                {
                    "annotations": {
                        "container.apparmor.security.beta.kubernetes.io/app": "unconfined"
                    }
                },
            ),
            "unconfined_annotation",
            "spec.template.metadata.annotations[container.apparmor.security.beta.kubernetes.io/app]",
        ),
        (
            (
                ("spec", "template", "metadata"),
                {"annotations": {"seccomp.security.alpha.kubernetes.io/pod": "unconfined"}},
            ),
            "unconfined_annotation",
            "spec.template.metadata.annotations[seccomp.security.alpha.kubernetes.io/pod]",
        ),
        (
            (
                ("spec", "template", "metadata"),
                {
                    "annotations": {
                        "container.seccomp.security.alpha.kubernetes.io/app": "unconfined"
                    }
                },
            ),
            "unconfined_annotation",
            "spec.template.metadata.annotations[container.seccomp.security.alpha.kubernetes.io/app]",
        ),
    ],
)
def test_each_baseline_rule_refuses_with_422_naming_the_field(
    change: tuple, rule: str, field: str
) -> None:
    with pytest.raises(IsolationViolation) as caught:
        isolation.check(_with(change))

    assert caught.value.http_status == 422
    assert caught.value.details["rule"] == rule
    assert caught.value.details["field"] == field
    assert field in caught.value.message


@pytest.mark.parametrize(
    "change",
    [
        (SPEC + ("priorityClassName",), "tenant-high"),
        (C0 + ("ports",), [{"containerPort": 80, "hostPort": 0}]),
        (SPEC + ("securityContext",), {"seccompProfile": {"type": "RuntimeDefault"}}),
        (C0 + ("securityContext",), {"appArmorProfile": {"type": "RuntimeDefault"}}),
        (C0 + ("securityContext",), {"procMount": "Default"}),
        (SPEC + ("securityContext",), {"sysctls": [{"name": "net.ipv4.tcp_fin_timeout"}]}),
        (
            C0 + ("securityContext",),
            {"seLinuxOptions": {"type": "container_init_t", "level": "s0"}},
        ),
        (SPEC + ("volumes",), [{"name": "e", "emptyDir": {}}]),
        (SPEC + ("tolerations",), [{"key": "nvidia.com/gpu", "operator": "Exists"}]),
        (
            ("spec", "template", "metadata"),
            {
                "annotations": {
                    "container.apparmor.security.beta.kubernetes.io/app": "runtime/default"
                }
            },
        ),
    ],
)
def test_what_baseline_allows_passes(change: tuple) -> None:
    assert isolation.violations(_with(change)) == []


def test_a_bare_pod_annotation_is_checked_on_its_own_metadata() -> None:
    pod = {
        "kind": "Pod",
        "metadata": {
            "name": "p",
            "annotations": {"seccomp.security.alpha.kubernetes.io/pod": "Unconfined"},
        },
        "spec": {"containers": [{"name": "c", "image": "x"}], "nodeName": "cpu-0"},
    }
    assert {v.field for v in isolation.violations(pod)} == {
        "metadata.annotations[seccomp.security.alpha.kubernetes.io/pod]",
        "spec.nodeName",
    }


def test_every_rule_shape_renders_to_cel_with_its_message() -> None:
    for rule in isolation.RULES:
        assert admission.expression(rule)
        assert rule.reason.split(" ")[0] in admission.message_expression(rule)
    nodename = next(r for r in isolation.RULES if r.name == "node_name")
    # a scheduled pod's later updates carry nodeName; only its create is checked
    assert "request.operation != 'CREATE'" in admission.expression(nodename)
