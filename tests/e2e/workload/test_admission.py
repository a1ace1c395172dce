"""The isolation rules in the cluster: a direct client call into a tenant namespace is refused.

The workload service (started by the `client` fixture) installs the ValidatingAdmissionPolicy
and its binding at start; these tests then bypass the API and talk to the apiserver directly.
"""

from __future__ import annotations

import copy
import uuid

import pytest
from kombu import Connection
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from shared.events import new_event
from shared.outbox import event_exchange
from tests.e2e.workload.conftest import EventTap, wait_until
from tests.e2e.workload.test_create import BAD_POD_SPECS, deployment
from tests.interface.gateway.conftest import Client


def _kata(body: dict) -> dict:
    body = copy.deepcopy(body)
    body["spec"]["template"]["spec"].setdefault("runtimeClassName", "kata")
    return body


@pytest.mark.parametrize("pod_spec, field", BAD_POD_SPECS)
def test_a_direct_create_breaking_a_rule_is_refused(
    policy_installed: None, apps: k8s.AppsV1Api, namespace: str, pod_spec: dict, field: str
) -> None:
    body = deployment("direct", pod_spec)
    if "runtimeClassName" not in pod_spec:
        body = _kata(body)

    with pytest.raises(ApiException) as caught:
        apps.create_namespaced_deployment(namespace, body)

    assert caught.value.status in (403, 422)
    assert "scs-tenant-isolation" in caught.value.body
    assert field.split("[")[0].split(".")[0] in caught.value.body


def test_a_direct_pod_without_the_kata_class_is_refused(
    policy_installed: None, core: k8s.CoreV1Api, namespace: str
) -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "plain"},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]},
    }
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_pod(namespace, pod)
    assert "runtimeClassName" in caught.value.body


def test_a_direct_pod_with_an_unconfined_annotation_is_refused(
    policy_installed: None, core: k8s.CoreV1Api, namespace: str
) -> None:
    annotation = "container.apparmor.security.beta.kubernetes.io/c"
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "loose", "annotations": {annotation: "unconfined"}},
        "spec": {"runtimeClassName": "kata", "containers": [{"name": "c", "image": "nginx"}]},
    }
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_pod(namespace, pod)
    # The apiserver copies the annotation into securityContext.appArmorProfile; either names it.
    assert "scs-tenant-isolation" in caught.value.body
    assert "appArmorProfile" in caught.value.body or "metadata.annotations" in caught.value.body


def test_a_scheduled_direct_pod_may_still_be_updated(
    policy_installed: None, core: k8s.CoreV1Api, namespace: str
) -> None:
    # The scheduler sets nodeName through pods/binding; the nodeName rule checks creates only.
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "placed"},
        "spec": {"runtimeClassName": "kata", "containers": [{"name": "c", "image": "nginx"}]},
    }
    core.create_namespaced_pod(namespace, pod)
    wait_until(
        "the pod is scheduled",
        lambda: core.read_namespaced_pod("placed", namespace).spec.node_name,
    )

    patched = core.patch_namespaced_pod("placed", namespace, {"metadata": {"labels": {"x": "y"}}})
    assert patched.metadata.labels["x"] == "y"


def test_a_compliant_direct_create_is_admitted(
    policy_installed: None, apps: k8s.AppsV1Api, namespace: str
) -> None:
    created = apps.create_namespaced_deployment(namespace, _kata(deployment("fine")))
    assert created.spec.template.spec.runtime_class_name == "kata"


def test_namespaces_that_are_not_tenant_namespaces_are_not_bound(
    policy_installed: None, apps: k8s.AppsV1Api, core: k8s.CoreV1Api
) -> None:
    name = f"e2e-wl-plain-{uuid.uuid4().hex[:6]}"
    core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=name)))
    try:
        created = apps.create_namespaced_deployment(
            name, deployment("untouched", {"hostPID": True})
        )
        assert created.spec.template.spec.host_pid is True
    finally:
        core.delete_namespace(name, propagation_policy="Background")


def test_namespace_setup_step_labels_for_the_policy_and_answers(
    client: Client, tenant: dict, suite_config: dict, core: k8s.CoreV1Api, events: EventTap
) -> None:
    # The cluster service announces namespace.created; here the test plays that part.
    name = f"e2e-wl-setup-{uuid.uuid4().hex[:6]}"
    labels = {"scs.io/project": tenant["project"], "scs.io/managed": "true"}
    core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=name, labels=labels)))
    try:
        envelope = new_event(
            "namespace.created",
            actor="system",
            project=tenant["project"],
            resource={"kind": "Namespace", "name": name},
            data={"name": name},
        )
        with Connection(suite_config["AMQP_URI"]) as connection:
            producer = connection.Producer(exchange=event_exchange(), serializer="json")
            producer.publish(envelope, routing_key="namespace.created", declare=[event_exchange()])

        done = events.wait_for(
            lambda e: (
                e["type"] == "namespace.setup_done"
                and e["data"] == {"namespace": name, "step": "workload"}
            )
        )
        assert done["project"] == tenant["project"]
        assert core.read_namespace(name).metadata.labels["scs.io/tenant"] == "true"
    finally:
        core.delete_namespace(name, propagation_policy="Background")
