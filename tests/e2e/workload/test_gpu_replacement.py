"""Changes of an existing workload go through the checks of a create, against the local cluster.

Real, as the rest of this package (conftest.py): the gateway, auth, quota, gpu, audit and
workload services in this process on a fresh vhost and databases, and the local Kubernetes
control plane with its KWOK nodes (gpu-t4-0/1: Tesla-T4, gpu-a100-0: A100, unsupported by the
platform's driver; arm-gpu-0: an Arm node with a T4G). Nothing is faked.

- a GPU Deployment's scheduling policy or YAML that the gpu service would refuse on create is
  refused (422, its codes and fields), and its pod stays where it runs;
- a native sidecar is charged as the ResourceQuota counts it;
- finalizers, ownerReferences, a pod overhead and absurd replica counts are refused, by the API
  and (but the counts) by the admission policy for a client going to the cluster directly.
"""

from __future__ import annotations

import copy
import time
from typing import Any

import pytest
import yaml
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from shared.quantity import bytes_of, cpu_millicores
from tests.e2e.workload.conftest import wait_until
from tests.e2e.workload.test_create import create, deployment, workloads
from tests.interface.gateway.conftest import Client

A100 = "NVIDIA-A100-SXM4-40GB"
HOST, PRODUCT, ARCH = "kubernetes.io/hostname", "nvidia.com/gpu.product", "kubernetes.io/arch"


def _call(client: Client, tenant: dict, namespace: str, method: str, path: str, body: Any) -> Any:
    return client.call(
        method,
        f"{workloads(tenant['project'])}/{path}",
        token=tenant["token"],
        json_body=body,
        params={"namespace": namespace},
    )


def _placed_pod(core: k8s.CoreV1Api, namespace: str) -> tuple[str, str]:
    def scheduled() -> tuple[str, str] | None:
        pods = [
            p
            for p in core.list_namespaced_pod(namespace, label_selector="app=trainer").items
            if p.spec.node_name and not p.metadata.deletion_timestamp
        ]
        return (pods[0].metadata.name, pods[0].spec.node_name) if len(pods) == 1 else None

    return wait_until("one trainer pod scheduled", scheduled, timeout=60)  # type: ignore[no-any-return]


def test_a_gpu_workload_cannot_be_moved_where_a_create_could_not_go(
    client: Client, tenant: dict, namespace: str, apps: k8s.AppsV1Api, core: k8s.CoreV1Api
) -> None:
    body = deployment("trainer")
    body["spec"]["template"]["spec"]["containers"][0]["resources"] = {
        "limits": {"nvidia.com/gpu": "1"}
    }
    reply = create(client, tenant, namespace, [body])
    assert reply.status == 201, reply.body
    pod, node = _placed_pod(core, namespace)
    pinned = apps.read_namespaced_deployment("trainer", namespace).spec.template.spec
    assert pinned.node_selector[PRODUCT].startswith(("Tesla-T4", "Tesla-V100"))
    generation = apps.read_namespaced_deployment("trainer", namespace).metadata.generation

    refusals = [
        ({"node_selector": {HOST: "arm-gpu-0"}}, "gpu_architecture_unsupported", "node_name"),
        ({"node_selector": {PRODUCT: A100}}, "gpu_model_unsupported", "model"),
        ({"node_affinity": {ARCH: ["arm64"]}}, "gpu_placement_refused", "nodeSelectorTerms"),
        ({"node_affinity": {PRODUCT: [A100]}}, "gpu_placement_refused", "nodeSelectorTerms"),
    ]
    for scheduling, code, field in refusals:
        refused = _call(client, tenant, namespace, "PUT", "trainer/scheduling", scheduling)
        assert refused.status == 422, (scheduling, refused.body)
        assert refused.body["code"] == code, refused.body
        assert field in refused.body["details"]["field"], refused.body

    edited = copy.deepcopy(body)
    edited["spec"]["template"]["spec"]["nodeSelector"] = {PRODUCT: A100}
    manifest = yaml.safe_dump(edited)
    refused = _call(client, tenant, namespace, "PUT", "trainer/yaml", {"manifest": manifest})
    assert refused.status == 422, refused.body
    assert refused.body["code"] == "gpu_model_unsupported"
    assert refused.body["details"]["field"] == "model"

    more = {"containers": [{"name": "app", "resources": {"limits": {"gpu": 9}}}]}
    refused = _call(client, tenant, namespace, "PUT", "trainer/containers", more)
    assert refused.status == 422, refused.body
    assert refused.body["code"] == "gpus_insufficient"

    # nothing changed in the cluster: same object generation, the pod stays on its node
    time.sleep(2)
    current = apps.read_namespaced_deployment("trainer", namespace)
    assert current.metadata.generation == generation
    assert current.spec.template.spec.node_selector == pinned.node_selector
    assert _placed_pod(core, namespace) == (pod, node)
    record = _call(client, tenant, namespace, "GET", "trainer", None).body
    assert record["revision"] == 1

    # an allowed move is placed again: the product pin comes back with the new selector
    target = "gpu-t4-1" if node != "gpu-t4-1" else "gpu-t4-0"
    moved = _call(
        client, tenant, namespace, "PUT", "trainer/scheduling", {"node_selector": {HOST: target}}
    )
    assert moved.status == 200, moved.body
    selector = apps.read_namespaced_deployment("trainer", namespace).spec.template.spec
    assert selector.node_selector == {HOST: target, PRODUCT: "Tesla-T4", ARCH: "amd64"}
    wait_until(
        f"the trainer pod on {target}",
        lambda: _placed_pod(core, namespace)[1] == target,
        timeout=90,
    )


def test_a_native_sidecar_is_charged_as_the_resource_quota_counts_it(
    client: Client, tenant: dict, namespace: str, core: k8s.CoreV1Api
) -> None:
    hard = {"requests.cpu": "8", "requests.memory": "8Gi"}
    quota = {"metadata": {"name": "scs-project-quota"}, "spec": {"hard": hard}}
    core.create_namespaced_resource_quota(namespace, quota)
    wait_until(
        "the quota's status",
        lambda: core.read_namespaced_resource_quota("scs-project-quota", namespace).status.hard,
    )
    body = deployment("meshed")
    spec = body["spec"]["template"]["spec"]
    spec["containers"][0]["resources"] = {"requests": {"cpu": "100m", "memory": "100Mi"}}
    spec["initContainers"] = [
        {
            "name": "proxy",
            "image": "envoy",
            "restartPolicy": "Always",
            "resources": {"requests": {"cpu": "500m", "memory": "300Mi"}},
        }
    ]

    reply = create(client, tenant, namespace, [body])

    assert reply.status == 201, reply.body
    cost = reply.body["workloads"][0]["pod_cost"]
    assert (cost["cpu"], cost["memory"]) == (600, 400 * 2**20)

    def used() -> tuple[int, int] | None:
        status = core.read_namespaced_resource_quota("scs-project-quota", namespace).status
        counted = status.used or {}
        if cpu_millicores(counted.get("requests.cpu", "0")) == 0:
            return None
        return cpu_millicores(counted["requests.cpu"]), bytes_of(counted["requests.memory"])

    # the ledger's per-pod charge (requests + Kata overhead) is what the apiserver counts
    counted = wait_until("the pod counted by the ResourceQuota", used, timeout=60)
    assert counted == (
        cost["cpu"] + cost["overhead_cpu"],
        cost["memory"] + cost["overhead_memory"],
    )


@pytest.mark.parametrize(
    "path, value, code, field",
    [
        (("metadata", "finalizers"), ["example.com/never"], "isolation_violation", None),
        (
            ("spec", "template", "metadata", "ownerReferences"),
            [{"apiVersion": "v1", "kind": "ConfigMap", "name": "x", "uid": "1"}],
            "isolation_violation",
            None,
        ),
        (("spec", "template", "spec", "overhead"), {"cpu": "1m"}, "isolation_violation", None),
        (("spec", "replicas"), 10**20, "invalid_manifest", None),
    ],
)
def test_the_api_refuses_wedging_metadata_overhead_and_absurd_counts(
    client: Client,
    tenant: dict,
    namespace: str,
    apps: k8s.AppsV1Api,
    path: tuple,
    value: Any,
    code: str,
    field: str | None,
) -> None:
    body = deployment("odd")
    node = body
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value

    reply = create(client, tenant, namespace, [body])

    assert reply.status in (400, 422), reply.body
    assert reply.body["code"] == code
    assert reply.body["details"]["field"] == ".".join(path)
    assert "4611686018427387903" not in reply.body["message"]
    assert apps.list_namespaced_deployment(namespace).items == []


def _kata(body: dict) -> dict:
    body = copy.deepcopy(body)
    body["spec"]["template"]["spec"]["runtimeClassName"] = "kata"
    return body


def test_the_admission_policy_refuses_finalizers_and_owners_on_workloads_only(
    policy_installed: None,
    apps: k8s.AppsV1Api,
    core: k8s.CoreV1Api,
    api_client: k8s.ApiClient,
    namespace: str,
) -> None:
    owner = [{"apiVersion": "v1", "kind": "ConfigMap", "name": "anchor", "uid": "1234"}]
    cases = [
        (("metadata", "finalizers"), ["example.com/never"], "finalizers"),
        (("spec", "template", "metadata", "finalizers"), ["example.com/never"], "finalizers"),
        (("metadata", "ownerReferences"), owner, "ownerReferences"),
        (("spec", "template", "spec", "overhead"), {"cpu": "1m"}, "overhead"),
    ]
    for path, value, named in cases:
        body = _kata(deployment("direct"))
        node = body
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value
        with pytest.raises(ApiException) as caught:
            apps.create_namespaced_deployment(namespace, body)
        assert caught.value.status in (403, 422)
        assert "scs-tenant-isolation" in caught.value.body
        assert named in caught.value.body

    # what the cluster itself does stays possible: a CronJob owning its Jobs (run-now too), an
    # ownerReference on a Service (network settings), a foreground deletion's finalizer
    cron = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "nightly"},
        "spec": {
            "schedule": "0 3 * * *",
            "suspend": True,
            "jobTemplate": {
                "spec": {
                    "template": {
                        "spec": {
                            "runtimeClassName": "kata",
                            "restartPolicy": "Never",
                            "containers": [{"name": "c", "image": "busybox"}],
                        }
                    }
                }
            },
        },
    }
    batch = k8s.BatchV1Api(api_client)
    created = batch.create_namespaced_cron_job(namespace, cron)
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": "nightly-manual",
            "ownerReferences": [
                {
                    "apiVersion": "batch/v1",
                    "kind": "CronJob",
                    "name": "nightly",
                    "uid": created.metadata.uid,
                    "controller": True,
                }
            ],
        },
        "spec": cron["spec"]["jobTemplate"]["spec"],
    }
    batch.create_namespaced_job(namespace, job)
    kept = apps.create_namespaced_deployment(namespace, _kata(deployment("kept")))
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": "kept",
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "name": "kept",
                    "uid": kept.metadata.uid,
                }
            ],
        },
        "spec": {"selector": {"app": "kept"}, "ports": [{"port": 80}]},
    }
    core.create_namespaced_service(namespace, service)
    apps.delete_namespaced_deployment("kept", namespace, propagation_policy="Foreground")

    def gone() -> bool:
        names = [d.metadata.name for d in apps.list_namespaced_deployment(namespace).items]
        return "kept" not in names

    wait_until("the foreground deletion to finish", gone, timeout=60)
