"""A workload's lifecycle through the gateway against the local cluster: scale within quota,
stop/start, update and rollback, redeploy, strategy, scheduling, CronJobs, pods, delete."""

from __future__ import annotations

from typing import Any

import yaml
from kubernetes import client as k8s

from tests.e2e.workload.conftest import EventTap, wait_until
from tests.e2e.workload.test_create import workloads
from tests.interface.gateway.conftest import Client

POD_CPU, OVERHEAD_CPU = 100, 250


class Api:
    """The gateway calls of one workload, as the tenant's user."""

    def __init__(self, client: Client, tenant: dict, namespace: str, name: str) -> None:
        self.client, self.tenant, self.namespace, self.name = client, tenant, namespace, name
        self.base = f"{workloads(tenant['project'])}/{name}"

    def call(self, method: str, suffix: str = "", body: Any = None) -> Any:
        return self.client.call(
            method,
            self.base + suffix,
            token=self.tenant["token"],
            json_body=body,
            params={"namespace": self.namespace},
        )

    def create(self, **form: Any) -> Any:
        body = {
            "namespace": self.namespace,
            "form": {
                "kind": "Deployment",
                "name": self.name,
                "image": "nginx:1.25",
                "resources": {"requests": {"cpu": f"{POD_CPU}m", "memory": "64Mi"}},
                **form,
            },
        }
        reply = self.client.call(
            "POST", workloads(self.tenant["project"]), token=self.tenant["token"], json_body=body
        )
        assert reply.status == 201, reply.body
        return reply.body["workloads"][0]

    def quota(self) -> dict[str, Any]:
        path = f"/api/v1/projects/{self.tenant['project']}/quota"
        return self.client.call("GET", path, token=self.tenant["admin"]).body["resources"]

    def set_limits(self, limits: dict[str, Any]) -> None:
        path = f"/api/v1/projects/{self.tenant['project']}/quota"
        reply = self.client.call(
            "PUT", path, token=self.tenant["admin"], json_body={"limits": limits}
        )
        assert reply.status == 200, reply.body


def _running(core: k8s.CoreV1Api, namespace: str, name: str) -> list[k8s.V1Pod]:
    pods = core.list_namespaced_pod(namespace, label_selector=f"scs.io/workload={name}").items
    return [p for p in pods if p.status.phase == "Running" and not p.metadata.deletion_timestamp]


def test_scaling_past_the_quota_is_refused_and_ledger_and_cluster_agree(
    client: Client, tenant: dict, namespace: str, apps: k8s.AppsV1Api
) -> None:
    api = Api(client, tenant, namespace, "capped")
    api.create(replicas=2)
    cpu_before = api.quota()["cpu"]["used"]
    api.set_limits({"cpu": f"{cpu_before + POD_CPU + OVERHEAD_CPU - 1}m"})
    try:
        refused = api.call("PUT", "/scale", {"replicas": 3})

        assert refused.status == 422, refused.body
        assert refused.body["code"] == "quota_exceeded"
        assert apps.read_namespaced_deployment("capped", namespace).spec.replicas == 2
        assert api.quota()["cpu"]["used"] == cpu_before

        assert api.call("PUT", "/scale", {"replicas": 1}).status == 200
        assert apps.read_namespaced_deployment("capped", namespace).spec.replicas == 1
        assert api.quota()["cpu"]["used"] == cpu_before - POD_CPU - OVERHEAD_CPU
        assert api.call("PUT", "/scale", {"replicas": 2}).status == 200
        assert api.quota()["cpu"]["used"] == cpu_before
    finally:
        api.set_limits({"cpu": "1000"})  # the gateway takes no null to remove a limit


def test_stop_then_start_restores_the_replica_count(
    client: Client, tenant: dict, namespace: str, core: k8s.CoreV1Api, events: EventTap
) -> None:
    api = Api(client, tenant, namespace, "pausable")
    api.create(replicas=3)
    wait_until("3 pods Running", lambda: len(_running(core, namespace, "pausable")) == 3)
    memory_with_pods = api.quota()["memory"]["used"]

    stopped = api.call("POST", "/stop")
    assert stopped.status == 200 and stopped.body["stopped"] is True
    wait_until("no pod left", lambda: not _running(core, namespace, "pausable"))
    assert api.quota()["memory"]["used"] == memory_with_pods - 3 * (64 + 160) * 2**20

    started = api.call("POST", "/start")
    assert started.status == 200 and started.body["replicas"] == 3
    wait_until("3 pods Running again", lambda: len(_running(core, namespace, "pausable")) == 3)
    assert api.quota()["memory"]["used"] == memory_with_pods
    kinds = {"workload.stopped", "workload.started"}
    events.wait_for(lambda e: e["type"] == "workload.started")
    assert kinds <= {e["type"] for e in events.received}


def test_update_then_rollback_returns_the_previous_template(
    client: Client, tenant: dict, namespace: str, apps: k8s.AppsV1Api, events: EventTap
) -> None:
    api = Api(client, tenant, namespace, "versioned")
    api.create(replicas=1, env={"MODE": "one"})

    updated = api.call(
        "PUT", "/containers", {"containers": [{"name": "versioned", "image": "nginx:1.26"}]}
    )
    assert updated.status == 200, updated.body
    wait_until(
        "two revisions",
        lambda: len(api.call("GET", "/revisions").body["items"]) == 2,
    )
    revisions = api.call("GET", "/revisions").body["items"]
    assert [r["images"] for r in revisions] == [["nginx:1.25"], ["nginx:1.26"]]

    rolled = api.call("POST", "/rollback", {})
    assert rolled.status == 200, rolled.body
    template = apps.read_namespaced_deployment("versioned", namespace).spec.template
    assert template.spec.containers[0].image == "nginx:1.25"
    assert template.spec.containers[0].env[0].value == "one"
    assert template.spec.runtime_class_name == "kata"
    event = events.wait_for(lambda e: e["type"] == "workload.rolled_back")
    assert event["data"]["to_revision"] == 1

    missing = api.call("POST", "/rollback", {"revision": 99})
    assert missing.status == 404 and missing.body["details"]["field"] == "revision"


def test_redeploy_labels_strategy_and_scheduling(
    client: Client, tenant: dict, namespace: str, apps: k8s.AppsV1Api
) -> None:
    api = Api(client, tenant, namespace, "tuned")
    api.create(replicas=1)

    assert api.call("POST", "/redeploy").status == 200
    assert api.call("PUT", "/labels", {"labels": {"tier": "web"}}).status == 200
    strategy = api.call("PUT", "/strategy", {"max_surge": 2, "max_unavailable": "50%"})
    assert strategy.status == 200, strategy.body
    scheduling = api.call(
        "PUT",
        "/scheduling",
        {"node_affinity": {"kubernetes.io/arch": ["amd64"]}, "tolerations": [{"key": "gpu"}]},
    )
    assert scheduling.status == 200, scheduling.body

    body = apps.read_namespaced_deployment("tuned", namespace)
    annotations = body.spec.template.metadata.annotations
    assert "kubectl.kubernetes.io/restartedAt" in annotations
    assert body.metadata.labels["tier"] == "web"
    assert body.spec.strategy.rolling_update.max_surge == 2
    assert body.spec.strategy.rolling_update.max_unavailable == "50%"
    terms = body.spec.template.spec.affinity.node_affinity
    expression = terms.required_during_scheduling_ignored_during_execution.node_selector_terms[0]
    assert expression.match_expressions[0].key == "kubernetes.io/arch"
    assert body.spec.template.spec.tolerations[0].key == "gpu"

    partition = api.call("PUT", "/strategy", {"partition": 1})
    assert partition.status == 422 and partition.body["details"]["field"] == "partition"
    bad = api.call("PUT", "/labels", {"labels": {"scs.io/project": "other"}})
    assert bad.status == 422


def test_statefulset_partition(
    client: Client, tenant: dict, namespace: str, apps: k8s.AppsV1Api
) -> None:
    api = Api(client, tenant, namespace, "ordered")
    api.create(kind="StatefulSet", replicas=2)

    reply = api.call("PUT", "/strategy", {"partition": 1})

    assert reply.status == 200, reply.body
    body = apps.read_namespaced_stateful_set("ordered", namespace)
    assert body.spec.update_strategy.rolling_update.partition == 1


def test_cronjob_suspend_resume_and_run_now(
    client: Client, tenant: dict, namespace: str, api_client: k8s.ApiClient
) -> None:
    batch = k8s.BatchV1Api(api_client)
    api = Api(client, tenant, namespace, "nightly")
    api.create(kind="CronJob", schedule="0 3 * * *")

    assert api.call("POST", "/suspend").status == 200
    assert batch.read_namespaced_cron_job("nightly", namespace).spec.suspend is True
    assert api.call("POST", "/resume").status == 200
    assert batch.read_namespaced_cron_job("nightly", namespace).spec.suspend is False

    run = api.call("POST", "/run")
    assert run.status == 201, run.body
    job = batch.read_namespaced_job(run.body["job"], namespace)
    assert job.metadata.owner_references[0].kind == "CronJob"
    assert job.spec.template.spec.runtime_class_name == "kata"


def test_pods_pod_yaml_logs_and_delete_pod(
    client: Client, tenant: dict, namespace: str, core: k8s.CoreV1Api
) -> None:
    api = Api(client, tenant, namespace, "observed")
    api.create(replicas=2)
    wait_until("2 pods Running", lambda: len(_running(core, namespace, "observed")) == 2)

    pods = api.call("GET", "/pods").body["items"]
    assert len(pods) == 2
    for pod in pods:
        assert pod["phase"] == "Running" and pod["node"] and pod["ip"]
        assert pod["restarts"] == 0
    pod_path = f"/api/v1/projects/{tenant['project']}/pods/{pods[0]['name']}"
    params = {"namespace": namespace}

    as_yaml = client.call("GET", f"{pod_path}/yaml", token=tenant["token"], params=params)
    assert as_yaml.status == 200
    assert "runtimeClassName: kata" in as_yaml.body["yaml"]

    logs = client.call(
        "GET", f"{pod_path}/logs", token=tenant["token"], params={**params, "tail_lines": 10}
    )
    # The local cluster's KWOK serves one emulated log file for every container.
    assert logs.status == 200, logs.body
    assert logs.body["lines"] and len(logs.body["lines"]) <= 10

    deleted = client.call("DELETE", pod_path, token=tenant["token"], params=params)
    assert deleted.status == 200
    wait_until(
        "a replacement pod",
        lambda: (
            pods[0]["name"] not in {p.metadata.name for p in _running(core, namespace, "observed")}
            and len(_running(core, namespace, "observed")) == 2
        ),
    )

    other = client.call(
        "GET", f"{pod_path}/yaml", token=tenant["token"], params={"namespace": "kube-system"}
    )
    assert other.status == 403


def test_delete_cascades_and_releases_quota(
    client: Client,
    tenant: dict,
    namespace: str,
    core: k8s.CoreV1Api,
    apps: k8s.AppsV1Api,
    events: EventTap,
) -> None:
    api = Api(client, tenant, namespace, "doomed")
    api.create(replicas=2)
    wait_until("2 pods Running", lambda: len(_running(core, namespace, "doomed")) == 2)
    used = api.quota()["cpu"]["used"]

    reply = api.call("DELETE")

    assert reply.status == 200
    assert api.quota().get("cpu", {}).get("used", 0) == used - 2 * (POD_CPU + OVERHEAD_CPU)
    wait_until(
        "the Deployment and its pods gone",
        lambda: (
            not apps.list_namespaced_deployment(namespace).items
            and not core.list_namespaced_pod(
                namespace, label_selector="scs.io/workload=doomed"
            ).items
        ),
    )
    assert api.call("GET").status == 404
    events.wait_for(lambda e: e["type"] == "workload.deleted")


def test_edit_as_yaml_replaces_within_the_rules(
    client: Client, tenant: dict, namespace: str, apps: k8s.AppsV1Api
) -> None:
    api = Api(client, tenant, namespace, "edited")
    api.create(replicas=1)
    body = apps.read_namespaced_deployment("edited", namespace).to_dict()
    manifest = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "edited", "labels": {"tier": "api"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": body["spec"]["selector"]["match_labels"]},
            "template": {
                "metadata": {"labels": body["spec"]["template"]["metadata"]["labels"]},
                "spec": {"containers": [{"name": "edited", "image": "nginx:1.27"}]},
            },
        },
    }

    reply = api.call("PUT", "/yaml", {"manifest": yaml.safe_dump(manifest)})

    assert reply.status == 200, reply.body
    assert (reply.body["replicas"], reply.body["quota_pods"]) == (2, 2)
    current = apps.read_namespaced_deployment("edited", namespace)
    assert current.spec.template.spec.containers[0].image == "nginx:1.27"
    assert current.spec.template.spec.runtime_class_name == "kata"
    assert current.metadata.labels["tier"] == "api"
    assert current.metadata.labels["scs.io/managed"] == "true"

    # a manifest that names no replicas keeps the current count (as `kubectl apply` does)
    del manifest["spec"]["replicas"]
    manifest["spec"]["template"]["metadata"]["annotations"] = {"note": "kept"}
    reply = api.call("PUT", "/yaml", {"manifest": manifest})
    assert reply.status == 200, reply.body
    assert reply.body["replicas"] == 2
    assert apps.read_namespaced_deployment("edited", namespace).spec.replicas == 2

    manifest["spec"]["template"]["spec"]["hostIPC"] = True
    refused = api.call("PUT", "/yaml", {"manifest": manifest})
    assert refused.status == 422
    assert refused.body["details"]["field"] == "spec.template.spec.hostIPC"
    manifest["kind"] = "StatefulSet"
    assert api.call("PUT", "/yaml", {"manifest": manifest}).status == 422
