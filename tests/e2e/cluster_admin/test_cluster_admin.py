"""Acceptance of issue 8 (cluster administration, namespaces, CRDs) through the gateway."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from kubernetes import client as k8s

from shared.quantity import bytes_of
from tests.e2e.cluster.support import wait_until

pytestmark = pytest.mark.e2e

V1 = "/api/v1"
CLUSTER_ENDPOINTS = [
    ("GET", f"{V1}/cluster", None),
    ("GET", f"{V1}/nodes", None),
    ("GET", f"{V1}/nodes/cpu-0", None),
    ("POST", f"{V1}/nodes/cpu-0/cordon", None),
    ("POST", f"{V1}/nodes/cpu-0/uncordon", None),
    ("PUT", f"{V1}/nodes/cpu-0/labels", {"add": {"a": "b"}}),
    ("PUT", f"{V1}/nodes/cpu-0/taints", {"remove": [{"key": "a"}]}),
    ("GET", f"{V1}/crds", None),
    ("POST", f"{V1}/crds", {"yaml": "kind: X"}),
]


def test_every_node_and_cluster_endpoint_refuses_non_cloud_admins(client, world, core):
    for role in ("user", "project_admin", "department_admin"):
        for method, path, body in CLUSTER_ENDPOINTS:
            reply = client.call(method, path, world["tokens"][role], body)
            assert (reply.status, reply.code) == (403, "forbidden"), (role, method, path)
    node = core.read_node("cpu-0")
    assert not node.spec.unschedulable and "a" not in (node.metadata.labels or {})


def test_cloud_admin_overview_matches_the_cluster(client, world, core):
    reply = client.call("GET", f"{V1}/cluster", world["tokens"]["cloud_admin"])
    assert reply.status == 200, reply.body
    nodes = core.list_node().items
    assert reply.body["nodes"]["total"] == len(nodes) >= 9
    assert reply.body["kubernetes_version"].startswith("v1.")
    assert reply.body["nodes"]["by_architecture"]["arm64"] >= 1
    assert "Tesla-T4" in reply.body["nodes"]["gpu_products"]
    assert reply.body["resources"]["capacity"]["gpu"] >= 8
    kata = [rc for rc in reply.body["runtime_classes"] if rc["name"] == "kata"]
    assert kata and kata[0]["overhead"] == {"cpu": 250, "memory": 160 * 2**20}

    detail = client.call("GET", f"{V1}/nodes/gpu-t4-0", world["tokens"]["cloud_admin"])
    assert detail.status == 200, detail.body
    assert detail.body["gpu"] == {"product": "Tesla-T4", "count": 4}
    assert any(c["type"] == "Ready" for c in detail.body["conditions"])


def _pinned_pod(name: str, node: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            # kata: tenant namespaces admit kata pods only (the workload admission policy).
            "runtimeClassName": "kata",
            "nodeSelector": {"kubernetes.io/hostname": node},
            "containers": [
                {
                    "name": "c",
                    "image": "busybox",
                    "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
                }
            ],
        },
    }


def _scheduled_on(core: k8s.CoreV1Api, namespace: str, name: str) -> str | None:
    return core.read_namespaced_pod(name, namespace).spec.node_name


def _unschedulable(core: k8s.CoreV1Api, namespace: str, name: str) -> bool:
    conditions = core.read_namespaced_pod(name, namespace).status.conditions or []
    return any(c.type == "PodScheduled" and c.reason == "Unschedulable" for c in conditions)


def test_cordoned_node_gets_no_new_pod_until_uncordoned(client, world, core, namespaces):
    admin = world["tokens"]["cloud_admin"]
    node = "cpu-3"
    namespace = namespaces.create()
    try:
        reply = client.call("POST", f"{V1}/nodes/{node}/cordon", admin)
        assert reply.status == 200 and reply.body["unschedulable"] is True, reply.body
        assert core.read_node(node).spec.unschedulable is True

        core.create_namespaced_pod(namespace, _pinned_pod("pinned", node))
        wait_until(
            "the scheduler to refuse the cordoned node",
            lambda: _unschedulable(core, namespace, "pinned"),
        )
        assert _scheduled_on(core, namespace, "pinned") is None
    finally:
        reply = client.call("POST", f"{V1}/nodes/{node}/uncordon", admin)
        assert reply.status == 200, reply.body
    wait_until(
        "the pod to be placed after uncordon",
        lambda: _scheduled_on(core, namespace, "pinned") == node,
    )


@pytest.mark.parametrize(
    ("node", "key"),
    [
        ("cpu-0", "kubernetes.io/arch"),
        ("gpu-t4-0", "nvidia.com/gpu.product"),
        ("arm-gpu-0", "katacontainers.io/kata-runtime"),
    ],
)
def test_platform_labels_are_protected(client, world, core, node, key):
    admin = world["tokens"]["cloud_admin"]
    before = core.read_node(node).metadata.labels
    reply = client.call("PUT", f"{V1}/nodes/{node}/labels", admin, {"remove": [key]})
    assert (reply.status, reply.code) == (422, "protected_node_metadata"), reply.body
    assert reply.body["details"]["fields"]["labels"] == [key]
    changed = client.call("PUT", f"{V1}/nodes/{node}/labels", admin, {"add": {key: "other"}})
    assert changed.status == 422, changed.body
    assert core.read_node(node).metadata.labels == before


def test_own_labels_and_taints_are_edited_and_system_taints_refused(client, world, core):
    admin = world["tokens"]["cloud_admin"]
    key = f"e2e.scs.io/t{uuid.uuid4().hex[:6]}"
    path = f"{V1}/nodes/cpu-1"
    try:
        added = client.call("PUT", f"{path}/labels", admin, {"add": {key: "yes"}})
        assert added.status == 200 and added.body["labels"][key] == "yes", added.body
        # PreferNoSchedule: other tests placing pods meanwhile are not disturbed.
        taint = {"key": key, "value": "x", "effect": "PreferNoSchedule"}
        tainted = client.call("PUT", f"{path}/taints", admin, {"add": [taint]})
        assert tainted.status == 200, tainted.body
        assert taint in [
            {"key": t.key, "value": t.value, "effect": t.effect}
            for t in core.read_node("cpu-1").spec.taints or []
        ]
        system = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}
        refused = client.call("PUT", f"{path}/taints", admin, {"add": [system]})
        assert (refused.status, refused.code) == (422, "protected_node_metadata")
        bad = client.call("PUT", f"{path}/labels", admin, {"add": {"bad key!": "v"}})
        assert (bad.status, bad.code) == (400, "validation_failed"), bad.body
    finally:
        client.call("PUT", f"{path}/taints", admin, {"remove": [{"key": key}]})
        client.call("PUT", f"{path}/labels", admin, {"remove": [key]})
    node = core.read_node("cpu-1")
    assert key not in node.metadata.labels
    assert all(t.key != key for t in node.spec.taints or [])


def _kata_pod(name: str, cpu: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "runtimeClassName": "kata",
            "containers": [
                {
                    "name": "c",
                    "image": "busybox",
                    "resources": {
                        "requests": {"cpu": cpu, "memory": "64Mi"},
                        "limits": {"cpu": cpu, "memory": "64Mi"},
                    },
                }
            ],
        },
    }


def _namespace_ready(client, token: str, project: str, name: str) -> bool:
    reply = client.call("GET", f"{V1}/projects/{project}/namespaces/{name}", token)
    assert reply.status == 200, reply.body
    return bool(reply.body["ready"])


def test_project_namespace_is_set_up_then_ready_and_the_apiserver_enforces_quota(
    client, world, core, namespaces, kube_api
):
    own = world["projects"]["own"]
    limits = {"cpu": "1", "memory": "1Gi", "count.pods": 3}
    set_limits = client.call(
        "PUT", f"{V1}/projects/{own}/quota", world["tokens"]["cloud_admin"], {"limits": limits}
    )
    assert set_limits.status == 200, set_limits.body

    refused = client.call(
        "POST", f"{V1}/projects/{own}/namespaces", world["tokens"]["user"], {"name": "by-a-user"}
    )
    assert refused.status == 403
    name = namespaces.create()
    admin = world["tokens"]["project_admin"]
    wait_until(
        "the namespace to be ready (quota, network and workload set up)",
        lambda: _namespace_ready(client, admin, own, name),
        timeout=30,
    )

    labels = core.read_namespace(name).metadata.labels
    assert labels["scs.io/project"] == own
    assert labels["scs.io/managed"] == labels["scs.io/tenant"] == "true"
    quota = core.read_namespaced_resource_quota("scs-project-quota", name)
    hard = {key: bytes_of(value) for key, value in quota.spec.hard.items()}
    assert hard == {"requests.cpu": 1, "requests.memory": 2**30, "count/pods": 3}
    policies = k8s.NetworkingV1Api(kube_api).list_namespaced_network_policy(name).items
    assert [p.metadata.name for p in policies] == ["scs-project-isolation"]

    # 500m + the kata overhead of 250m fits in 1 cpu once, not twice: the apiserver refuses.
    wait_until(
        "the quota controller to count usage",
        lambda: core.read_namespaced_resource_quota("scs-project-quota", name).status.hard,
    )
    core.create_namespaced_pod(name, _kata_pod("first", "500m"))
    with pytest.raises(k8s.exceptions.ApiException) as caught:
        core.create_namespaced_pod(name, _kata_pod("second", "500m"))
    assert caught.value.status == 403 and "exceeded quota" in caught.value.body

    # Raising the limit re-mirrors it into the namespace.
    raised = client.call(
        "PUT",
        f"{V1}/projects/{own}/quota",
        world["tokens"]["cloud_admin"],
        {"limits": {"cpu": "2"}},
    )
    assert raised.status == 200, raised.body
    wait_until(
        "the raised limit in the ResourceQuota",
        lambda: (
            core.read_namespaced_resource_quota("scs-project-quota", name).spec.hard[
                "requests.cpu"
            ]
            == "2"
        ),
    )


def test_namespaces_of_other_projects_are_invisible_and_deletion_needs_force(
    client, world, core, namespaces
):
    own, other = world["projects"]["own"], world["projects"]["other"]
    admin = world["tokens"]["project_admin"]
    theirs = namespaces.create(project="other", token_role="cloud_admin")
    for method in ("GET", "DELETE"):
        reply = client.call(method, f"{V1}/projects/{own}/namespaces/{theirs}", admin)
        assert (reply.status, reply.code) == (403, "namespace_not_in_project"), reply.body
    listed = client.call("GET", f"{V1}/projects/{own}/namespaces", admin)
    assert theirs not in [n["name"] for n in listed.body["items"]]
    assert core.read_namespace(theirs).status.phase == "Active"

    mine = namespaces.create()
    core.create_namespaced_pod(mine, _kata_pod("busy", "100m"))
    busy = client.call("DELETE", f"{V1}/projects/{own}/namespaces/{mine}", admin)
    assert (busy.status, busy.code) == (409, "namespace_not_empty"), busy.body
    assert busy.body["details"]["workloads"] == {"Pod": 1}
    forced = client.call(
        "DELETE", f"{V1}/projects/{own}/namespaces/{mine}", admin, params={"force": "true"}
    )
    assert forced.status == 200, forced.body
    wait_until(
        "the namespace to terminate",
        lambda: (
            core.list_namespace(field_selector=f"metadata.name={mine}").items == []
            or core.read_namespace(mine).status.phase == "Terminating"
        ),
    )
    still = client.call("GET", f"{V1}/projects/{other}/namespaces", world["tokens"]["cloud_admin"])
    assert theirs in [n["name"] for n in still.body["items"]]


def _crd_yaml(group: str, kind: str, plural: str, scope: str) -> str:
    return f"""
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: {plural}.{group}
spec:
  group: {group}
  scope: {scope}
  names: {{kind: {kind}, plural: {plural}, singular: {kind.lower()}, listKind: {kind}List}}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {{type: object, properties: {{size: {{type: integer}}}}}}
"""


def test_imported_crd_accepts_custom_resources_in_own_namespaces_only(
    client, world, core, namespaces, kube_api
):
    group = f"e2e{uuid.uuid4().hex[:8]}.scs.example"
    admin, user = world["tokens"]["cloud_admin"], world["tokens"]["user"]
    own, other = world["projects"]["own"], world["projects"]["other"]
    extensions = k8s.ApiextensionsV1Api(kube_api)
    names = [f"widgets.{group}", f"gadgets.{group}"]
    try:
        denied = client.call(
            "POST",
            f"{V1}/crds",
            world["tokens"]["project_admin"],
            {"yaml": _crd_yaml(group, "Widget", "widgets", "Namespaced")},
        )
        assert denied.status == 403
        for kind, plural, scope in (
            ("Widget", "widgets", "Namespaced"),
            ("Gadget", "gadgets", "Cluster"),
        ):
            reply = client.call(
                "POST", f"{V1}/crds", admin, {"yaml": _crd_yaml(group, kind, plural, scope)}
            )
            assert reply.status == 201, reply.body
        wait_until(
            "the CRDs to be established",
            lambda: (
                all(
                    c["established"]
                    for c in client.call("GET", f"{V1}/projects/{own}/crds", user).body["items"]
                    if c["group"] == group
                )
                and len(
                    [
                        c
                        for c in client.call("GET", f"{V1}/crds", admin).body["items"]
                        if c["group"] == group
                    ]
                )
                == 2
            ),
        )

        mine = namespaces.create()
        theirs = namespaces.create(project="other", token_role="cloud_admin")
        widget = {
            "apiVersion": f"{group}/v1",
            "kind": "Widget",
            "metadata": {"name": "w1"},
            "spec": {"size": 3},
        }
        created = client.call(
            "POST",
            f"{V1}/projects/{own}/custom-resources",
            user,
            {"namespace": mine, "manifest": widget},
        )
        assert created.status == 201, created.body
        assert created.body["namespace"] == mine

        elsewhere = client.call(
            "POST",
            f"{V1}/projects/{own}/custom-resources",
            user,
            {"namespace": theirs, "manifest": widget},
        )
        assert (elsewhere.status, elsewhere.code) == (403, "namespace_not_in_project")
        cross = client.call(
            "POST",
            f"{V1}/projects/{other}/custom-resources",
            user,
            {"namespace": theirs, "manifest": widget},
        )
        assert cross.status == 403
        gadget = f"apiVersion: {group}/v1\nkind: Gadget\nmetadata: {{name: g1}}\n"
        scoped = client.call(
            "POST", f"{V1}/projects/{own}/custom-resources", user, {"yaml": gadget}
        )
        assert (scoped.status, scoped.code) == (403, "cluster_scoped_refused")
        invalid = client.call(
            "POST",
            f"{V1}/projects/{own}/custom-resources",
            user,
            {
                "namespace": mine,
                "manifest": widget | {"metadata": {"name": "w2"}, "spec": {"size": "big"}},
            },
        )
        assert (invalid.status, invalid.code) == (422, "cluster_rejected"), invalid.body

        query = {"namespace": mine, "crd": f"widgets.{group}"}
        listed = client.call("GET", f"{V1}/projects/{own}/custom-resources", user, params=query)
        assert [i["name"] for i in listed.body["items"]] == ["w1"]
        gone = client.call(
            "DELETE", f"{V1}/projects/{own}/custom-resources/w1", user, params=query
        )
        assert gone.status == 200, gone.body
        listed = client.call("GET", f"{V1}/projects/{own}/custom-resources", user, params=query)
        assert listed.body["items"] == []
    finally:
        for name in names:
            try:
                extensions.delete_custom_resource_definition(name)
            except k8s.exceptions.ApiException as exc:
                if exc.status != 404:
                    raise


WORKLOAD_YAML = """
apiVersion: v1
kind: Secret
metadata: {name: web-credentials}
stringData: {token: carried-by-the-workload-yaml}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx
        resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {cpu: 100m, memory: 64Mi}}
        envFrom: [{secretRef: {name: web-credentials}}]
"""


def _used_cpu(client, token: str, project: str) -> int:
    reply = client.call("GET", f"{V1}/projects/{project}/quota", token)
    assert reply.status == 200, reply.body
    return int(reply.body["resources"].get("cpu", {}).get("used", 0))


def test_workload_yaml_secrets_go_through_config_and_forced_delete_releases_quota(
    client, world, core, namespaces
):
    own = world["projects"]["own"]
    admin, user = world["tokens"]["project_admin"], world["tokens"]["user"]
    name = namespaces.create()
    wait_until("the namespace to be ready", lambda: _namespace_ready(client, admin, own, name))
    assert core.read_namespace(name).metadata.labels["scs.io/tenant"] == "true"
    before = _used_cpu(client, admin, own)

    created = client.call(
        "POST",
        f"{V1}/projects/{own}/workloads",
        user,
        {"namespace": name, "manifest": WORKLOAD_YAML},
    )
    assert created.status == 201, created.body
    owners = {(o["kind"], o["owner"]) for o in created.body["objects"]}
    assert ("Secret", "config") in owners
    assert core.read_namespaced_secret("web-credentials", name).metadata.uid
    shown = client.call(
        "GET",
        f"{V1}/projects/{own}/config/web-credentials",
        user,
        params={"namespace": name, "kind": "Secret"},
    )
    assert shown.body["data"] == {"token": "******"}
    assert _used_cpu(client, admin, own) > before

    busy = client.call("DELETE", f"{V1}/projects/{own}/namespaces/{name}", admin)
    assert (busy.status, busy.code) == (409, "namespace_not_empty"), busy.body
    assert busy.body["details"]["workloads"]["Deployment"] == 1
    forced = client.call(
        "DELETE", f"{V1}/projects/{own}/namespaces/{name}", admin, params={"force": "true"}
    )
    assert forced.status == 200, forced.body
    wait_until(
        "the namespace's quota to be released",
        lambda: _used_cpu(client, admin, own) == before,
        timeout=30,
    )
