"""Creating workloads through the gateway into the local cluster: YAML, forms, refusals."""

from __future__ import annotations

import time
from typing import Any

import yaml
from kubernetes import client as k8s

from tests.e2e.workload.conftest import EventTap, load_input, wait_until
from tests.interface.gateway.conftest import Client

BAD_POD_SPECS = [
    ({"volumes": [{"name": "h", "hostPath": {"path": "/etc"}}]}, "volumes[0].hostPath"),
    ({"hostNetwork": True}, "hostNetwork"),
    (
        {"containers": [{"name": "c", "image": "x", "securityContext": {"privileged": True}}]},
        "containers[0].securityContext.privileged",
    ),
    ({"runtimeClassName": "runc"}, "runtimeClassName"),
    ({"priorityClassName": "system-node-critical"}, "priorityClassName"),
    ({"nodeName": "gpu-t4-0"}, "nodeName"),
    (
        {
            "containers": [
                {"name": "c", "image": "x", "ports": [{"containerPort": 80, "hostPort": 80}]}
            ]
        },
        "containers[0].ports[0].hostPort",
    ),
    (
        {"securityContext": {"seccompProfile": {"type": "Unconfined"}}},
        "securityContext.seccompProfile.type",
    ),
    (
        {"securityContext": {"sysctls": [{"name": "kernel.msgmax", "value": "65536"}]}},
        "securityContext.sysctls[0].name",
    ),
    ({"volumes": [{"name": "v", "csi": {"driver": "csi.example.com"}}]}, "volumes[0].csi"),
    ({"tolerations": [{"operator": "Exists"}]}, "tolerations[0]"),
]


def workloads(project: str) -> str:
    return f"/api/v1/projects/{project}/workloads"


def create(client: Client, tenant: dict, namespace: str, manifest: Any) -> Any:
    """POST the manifest; while the gpu service's inventory is still syncing, ask again."""
    text = manifest if isinstance(manifest, str) else yaml.safe_dump_all(manifest)
    deadline = time.monotonic() + 30
    while True:
        reply = client.call(
            "POST",
            workloads(tenant["project"]),
            token=tenant["token"],
            json_body={"namespace": namespace, "manifest": text},
        )
        if reply.code != "gpu_inventory_not_ready" or time.monotonic() > deadline:
            return reply
        time.sleep(1)


def deployment(name: str, pod_spec: dict | None = None, replicas: int = 1) -> dict:
    spec = {"containers": [{"name": "app", "image": "nginx"}], **(pod_spec or {})}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": spec},
        },
    }


def test_job_pi_runs_in_kata_to_completion(
    client: Client, tenant: dict, namespace: str, events: EventTap, core: k8s.CoreV1Api
) -> None:
    # As the quota service mirrors a project's limits: a ResourceQuota on requests admits no
    # pod without requests, and job-pi names none; the platform's default requests let it in.
    quota = {"metadata": {"name": "scs-project-quota"}, "spec": {"hard": {"requests.cpu": "8"}}}
    core.create_namespaced_resource_quota(namespace, quota)
    reply = create(client, tenant, namespace, load_input("job-pi.yaml"))

    assert reply.status == 201, reply.body
    assert reply.body["workloads"][0]["kind"] == "Job"
    path = f"{workloads(tenant['project'])}/pi"
    params = {"namespace": namespace}

    def complete() -> bool:
        answer = client.call("GET", path, token=tenant["token"], params=params)
        return answer.body["rollout"]["state"] == "complete"

    wait_until("the pi Job to complete", complete, timeout=90)
    pods = client.call("GET", f"{path}/pods", token=tenant["token"], params=params).body["items"]
    assert pods and all(p["phase"] == "Succeeded" for p in pods)
    created = events.wait_for(lambda e: e["type"] == "workload.created")
    assert created["resource"]["name"] == "pi"
    assert created["project"] == tenant["project"]
    assert created["data"]["pod_cost"]["overhead_cpu"] == 250
    assert created["data"]["pod_cost"]["cpu"] == 100  # the default request
    used = core.read_namespaced_resource_quota("scs-project-quota", namespace)
    assert used.status.hard["requests.cpu"] == "8"


def test_guestbook_deployments_reach_running_with_the_kata_class(
    client: Client, tenant: dict, namespace: str, apps: k8s.AppsV1Api, core: k8s.CoreV1Api
) -> None:
    # The Services of the stream belong to the network service, not started in this suite;
    # the workload side is exercised with the three Deployments as written.
    docs = [d for d in load_input("guestbook-all-in-one.yaml") if d["kind"] == "Deployment"]
    reply = create(client, tenant, namespace, docs)

    assert reply.status == 201, reply.body
    assert sorted(w["name"] for w in reply.body["workloads"]) == [
        "frontend",
        "redis-master",
        "redis-replica",
    ]
    frontend = apps.read_namespaced_deployment("frontend", namespace)
    assert frontend.spec.template.spec.runtime_class_name == "kata"

    def all_running() -> bool:
        pods = core.list_namespaced_pod(namespace).items
        running = [p for p in pods if p.status.phase == "Running"]
        return len(running) == 6

    wait_until("six guestbook pods Running", all_running, timeout=90)
    pod = core.list_namespaced_pod(namespace).items[0]
    assert pod.spec.runtime_class_name == "kata"
    assert pod.spec.overhead == {"cpu": "250m", "memory": "160Mi"}


def test_a_companion_without_its_owner_is_refused_and_nothing_is_applied(
    client: Client, tenant: dict, namespace: str, apps: k8s.AppsV1Api
) -> None:
    reply = create(client, tenant, namespace, load_input("guestbook-all-in-one.yaml"))

    assert reply.status == 503, reply.body
    assert reply.body["code"] == "owner_unavailable"
    assert reply.body["details"]["owner"] == "network"
    assert "network" in reply.body["message"]
    assert apps.list_namespaced_deployment(namespace).items == []


def test_isolation_refusals_name_the_field(client: Client, tenant: dict, namespace: str) -> None:
    for index, (pod_spec, field) in enumerate(BAD_POD_SPECS):
        reply = create(client, tenant, namespace, [deployment(f"bad-{index}", pod_spec)])

        assert reply.status == 422, reply.body
        assert reply.body["code"] == "isolation_violation"
        assert reply.body["details"]["field"] == f"spec.template.spec.{field}"


def test_a_removed_api_version_names_the_one_to_use(
    client: Client, tenant: dict, namespace: str
) -> None:
    cronjob = {
        "apiVersion": "batch/v1beta1",
        "kind": "CronJob",
        "metadata": {"name": "nightly"},
        "spec": {"schedule": "0 1 * * *", "jobTemplate": {"spec": {"template": {"spec": {}}}}},
    }
    reply = create(client, tenant, namespace, [cronjob])

    assert reply.status == 422
    assert reply.body["code"] == "api_version_removed"
    assert reply.body["details"]["use"] == "batch/v1"


def test_each_kind_from_a_form(client: Client, tenant: dict, namespace: str) -> None:
    forms = [
        {"kind": "Deployment", "name": "f-deploy", "replicas": 2},
        {"kind": "StatefulSet", "name": "f-sts", "replicas": 1},
        {"kind": "DaemonSet", "name": "f-ds"},
        {"kind": "Job", "name": "f-job", "command": ["true"]},
        {"kind": "CronJob", "name": "f-cron", "schedule": "*/5 * * * *"},
    ]
    for form in forms:
        body = {
            "namespace": namespace,
            "form": {
                "image": "nginx",
                "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
                **form,
            },
        }
        reply = client.call(
            "POST", workloads(tenant["project"]), token=tenant["token"], json_body=body
        )
        assert reply.status == 201, (form, reply.body)

    listed = client.call(
        "GET", workloads(tenant["project"]), token=tenant["token"], params={"namespace": namespace}
    )
    assert sorted(w["kind"] for w in listed.body["items"]) == sorted(f["kind"] for f in forms)


def test_a_namespace_of_another_project_is_refused(
    client: Client, tenant: dict, core: k8s.CoreV1Api
) -> None:
    reply = create(client, tenant, "kube-system", [deployment("intruder")])

    assert reply.status == 403
    assert reply.body["code"] == "namespace_not_in_project"


def test_a_gpu_request_no_node_can_hold_is_refused(
    client: Client, tenant: dict, namespace: str, apps: k8s.AppsV1Api
) -> None:
    body = deployment("greedy")
    body["spec"]["template"]["spec"]["containers"][0]["resources"] = {
        "limits": {"nvidia.com/gpu": "9"}
    }
    reply = create(client, tenant, namespace, [body])

    assert reply.status == 422, reply.body
    assert reply.body["code"] == "gpus_insufficient"
    assert apps.list_namespaced_deployment(namespace).items == []


def test_a_repeated_create_request_answers_again_without_a_second_workload(
    client: Client, tenant: dict, namespace: str, apps: k8s.AppsV1Api
) -> None:
    body = {"namespace": namespace, "manifest": yaml.safe_dump(deployment("once"))}
    headers = {"X-Request-Id": f"retry-{namespace}"}
    path = workloads(tenant["project"])

    first = client.call("POST", path, token=tenant["token"], json_body=body, headers=headers)
    again = client.call("POST", path, token=tenant["token"], json_body=body, headers=headers)

    assert first.status == 201 and again.status == 201, (first.body, again.body)
    assert again.body["replayed"] is True
    assert again.body["workloads"][0]["id"] == first.body["workloads"][0]["id"]
    assert len(apps.list_namespaced_deployment(namespace).items) == 1
    fresh = client.call("POST", path, token=tenant["token"], json_body=body)
    assert fresh.status == 409 and fresh.body["code"] == "workload_exists"


def test_an_hpa_for_an_existing_workload_extends_its_quota(
    client: Client, tenant: dict, namespace: str
) -> None:
    assert create(client, tenant, namespace, [deployment("later")]).status == 201
    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "later"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "later"},
            "minReplicas": 1,
            "maxReplicas": 5,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 50},
                    },
                }
            ],
        },
    }
    assert create(client, tenant, namespace, [hpa]).status == 201

    record = client.call(
        "GET",
        f"{workloads(tenant['project'])}/later",
        token=tenant["token"],
        params={"namespace": namespace},
    )
    assert (record.body["autoscaling_max"], record.body["quota_pods"]) == (5, 5)


def _gpu_with_affinity(name: str, key: str, values: list[str]) -> dict:
    body = deployment(name)
    spec = body["spec"]["template"]["spec"]
    spec["containers"][0]["resources"] = {"limits": {"nvidia.com/gpu": "1"}}
    term = {"matchExpressions": [{"key": key, "operator": "In", "values": values}]}
    spec["affinity"] = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}
        }
    }
    return body


def test_a_gpu_affinity_only_arm_or_unsupported_nodes_match_is_refused(
    client: Client, tenant: dict, namespace: str, apps: k8s.AppsV1Api
) -> None:
    cases = [
        ("arm", "kubernetes.io/arch", ["arm64"], "gpu_architecture_unsupported"),
        ("a100", "nvidia.com/gpu.product", ["NVIDIA-A100-SXM4-40GB"], "gpu_model_unsupported"),
    ]
    for name, key, values, reason in cases:
        reply = create(client, tenant, namespace, [_gpu_with_affinity(name, key, values)])

        assert reply.status == 422, reply.body
        assert reply.body["code"] == "gpu_placement_refused"
        assert reply.body["details"]["reason"] == reason
        assert reply.body["details"]["field"].endswith("nodeSelectorTerms[0].matchExpressions[0]")
    assert apps.list_namespaced_deployment(namespace).items == []
