"""Rollouts and the quota, and the reconcile pass, through the gateway on the local cluster.

Real: the suite (auth, quota, gpu, workload, gateway) on a fresh vhost and databases, the
local Kubernetes control plane. The reconcile pass is asked for over RPC instead of waiting
for its 60 s timer.
"""

from __future__ import annotations

from typing import Any

from kubernetes import client as k8s
from nameko.standalone.rpc import ClusterRpcProxy

from services.workload import tenancy
from services.workload.cluster import Cluster
from shared.db import Database
from tests.e2e.workload.conftest import EventTap, wait_until
from tests.e2e.workload.test_lifecycle import OVERHEAD_CPU, POD_CPU, Api
from tests.interface.gateway.conftest import Client

POD = POD_CPU + OVERHEAD_CPU


def _reconcile(suite_config: dict[str, Any]) -> dict[str, int]:
    with ClusterRpcProxy({"AMQP_URI": suite_config["AMQP_URI"]}) as rpc:
        return rpc.workload.reconcile_cluster()  # type: ignore[no-any-return]


def _cpu_used(api: Api) -> int:
    """CPU used by the project; a resource nothing uses and nothing limits is not listed."""
    return int(api.quota().get("cpu", {"used": 0})["used"])


def _restarted_at(apps: k8s.AppsV1Api, namespace: str, name: str) -> str | None:
    annotations = apps.read_namespaced_deployment(name, namespace).spec.template.metadata
    return (annotations.annotations or {}).get("kubectl.kubernetes.io/restartedAt")


def test_a_redeploy_needs_room_for_its_surge_pod(
    client: Client,
    tenant: dict,
    namespace: str,
    apps: k8s.AppsV1Api,
    suite_config: dict[str, Any],
) -> None:
    api = Api(client, tenant, namespace, "surging")
    api.create(replicas=2)
    used = api.quota()["cpu"]["used"]
    api.set_limits({"cpu": f"{used + POD - 1}m"})
    try:
        refused = api.call("POST", "/redeploy")

        assert refused.status == 422, refused.body
        assert refused.body["code"] == "quota_exceeded"
        assert refused.body["details"]["surge"] == 1
        assert refused.body["details"]["field"] == "spec.strategy.rollingUpdate.maxSurge"
        assert _restarted_at(apps, namespace, "surging") is None
        assert api.quota()["cpu"]["used"] == used

        api.set_limits({"cpu": f"{used + POD}m"})
        assert api.call("POST", "/redeploy").status == 200
        assert api.quota()["cpu"]["used"] == used + POD  # the surge pod's headroom is held
    finally:
        api.set_limits({"cpu": "1000"})

    wait_until(
        "the rollout to complete",
        lambda: api.call("GET").body["rollout"]["state"] == "complete",
        timeout=90,
    )
    assert _reconcile(suite_config)["surges_settled"] >= 1
    assert api.quota()["cpu"]["used"] == used


def test_a_rollout_that_cannot_create_pods_is_reported_stuck(
    client: Client, tenant: dict, namespace: str, core: k8s.CoreV1Api
) -> None:
    api = Api(client, tenant, namespace, "blocked")
    api.create(replicas=1)
    wait_until("the first rollout", lambda: api.call("GET").body["rollout"]["state"] == "complete")
    # One pod at most in the namespace: the surge pod of the next rollout cannot be created.
    quota = {"metadata": {"name": "one-pod"}, "spec": {"hard": {"pods": "1"}}}
    core.create_namespaced_resource_quota(namespace, quota)
    try:
        assert api.call("POST", "/redeploy").status == 200

        rollout = wait_until(
            "the rollout reported stuck",
            lambda: (lambda r: r if r["state"] == "stuck" else None)(
                api.call("GET").body["rollout"]
            ),
        )
        assert rollout["reason"] == "FailedCreate"
        assert "exceeded quota" in rollout["message"]
    finally:
        core.delete_namespaced_resource_quota("one-pod", namespace)


def test_reconcile_drops_a_workload_deleted_behind_the_platform(
    client: Client,
    tenant: dict,
    namespace: str,
    apps: k8s.AppsV1Api,
    events: EventTap,
    suite_config: dict[str, Any],
) -> None:
    api = Api(client, tenant, namespace, "ghost")
    before = _cpu_used(api)
    api.create(replicas=2)
    assert _cpu_used(api) == before + 2 * POD

    apps.delete_namespaced_deployment("ghost", namespace, propagation_policy="Background")
    wait_until(
        "the Deployment gone",
        lambda: (
            not [
                d
                for d in apps.list_namespaced_deployment(namespace).items
                if d.metadata.name == "ghost"
            ]
        ),
    )
    result = _reconcile(suite_config)

    assert result["workloads_gone"] == 1
    assert _cpu_used(api) == before
    assert api.call("GET").status == 404
    deleted = events.wait_for(
        lambda e: e["type"] == "workload.deleted" and e["resource"]["name"] == "ghost"
    )
    assert deleted["data"]["reason"] == "reconciled"
    assert _reconcile(suite_config)["workloads_gone"] == 0


def test_namespace_setup_gives_direct_pods_the_default_requests(
    client: Client,
    tenant: dict,
    namespace: str,
    core: k8s.CoreV1Api,
    suite_config: dict[str, Any],
) -> None:
    # The setup step the service runs on namespace.created, called here directly.
    database = Database(suite_config["WORKLOAD_DATABASE_URL"])
    cluster = Cluster()
    try:
        assert tenancy.set_up_namespace(cluster, database, tenant["project"], namespace)
        assert tenancy.set_up_namespace(cluster, database, tenant["project"], namespace)
    finally:
        cluster.close()
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "bare"},
        "spec": {"runtimeClassName": "kata", "containers": [{"name": "c", "image": "nginx"}]},
    }
    created = core.create_namespaced_pod(namespace, pod)

    assert created.spec.containers[0].resources.requests == {"cpu": "100m", "memory": "128Mi"}


def test_an_update_and_a_yaml_edit_need_room_for_their_surge_too(
    client: Client, tenant: dict, namespace: str, apps: k8s.AppsV1Api
) -> None:
    api = Api(client, tenant, namespace, "edited")
    api.create(replicas=4)  # maxSurge 25% of 4: one surge pod
    used = _cpu_used(api)
    api.set_limits({"cpu": f"{used + POD - 1}m"})
    try:
        change = {"containers": [{"name": "edited", "image": "nginx:1.27"}]}
        refused = api.call("PUT", "/containers", change)
        assert refused.status == 422, refused.body
        assert refused.body["details"]["surge"] == 1

        body = apps.read_namespaced_deployment("edited", namespace)
        manifest = api_client_dict(apps, body)
        manifest["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.27"
        refused = api.call("PUT", "/yaml", {"manifest": manifest})
        assert refused.status == 422, refused.body
        assert refused.body["details"]["field"] == "spec.strategy.rollingUpdate.maxSurge"
        current = apps.read_namespaced_deployment("edited", namespace)
        assert current.spec.template.spec.containers[0].image == "nginx:1.25"
        assert _cpu_used(api) == used
    finally:
        api.set_limits({"cpu": "1000"})


def api_client_dict(apps: k8s.AppsV1Api, body: Any) -> dict[str, Any]:
    """The object as the apiserver's JSON (camelCase), without server-set metadata."""
    data = apps.api_client.sanitize_for_serialization(body)
    data["metadata"] = {"name": data["metadata"]["name"], "labels": data["metadata"]["labels"]}
    data.pop("status", None)
    return data  # type: ignore[no-any-return]


def test_a_statefulset_that_cannot_create_pods_is_reported_stuck_from_events(
    client: Client, tenant: dict, namespace: str, core: k8s.CoreV1Api
) -> None:
    quota = {"metadata": {"name": "no-pods"}, "spec": {"hard": {"pods": "0"}}}
    core.create_namespaced_resource_quota(namespace, quota)
    try:
        api = Api(client, tenant, namespace, "frozen")
        api.create(kind="StatefulSet", replicas=1)

        rollout = wait_until(
            "the StatefulSet reported stuck",
            lambda: (lambda r: r if r["state"] == "stuck" else None)(
                api.call("GET").body["rollout"]
            ),
        )
        assert rollout["reason"] == "FailedCreate"
        assert "exceeded quota" in rollout["message"]
    finally:
        core.delete_namespaced_resource_quota("no-pods", namespace)


def test_a_finished_job_gives_its_quota_back(
    client: Client,
    tenant: dict,
    namespace: str,
    events: EventTap,
    suite_config: dict[str, Any],
) -> None:
    api = Api(client, tenant, namespace, "one-shot")
    job = {"kind": "Job", "command": ["sh", "-c", "true"], "parallelism": 2, "completions": 2}
    record = api.create(**job)
    assert record["quota_pods"] == 2
    wait_until(
        "the Job complete",
        lambda: api.call("GET").body["rollout"]["state"] == "complete",
        timeout=90,
    )
    # Earlier tests' workloads share the project; a pass may settle their headroom too, so the
    # Job's own share is what the pass that finished it released at least.
    with_job = _cpu_used(api)
    assert _reconcile(suite_config)["jobs_finished"] == 1
    released = with_job - _cpu_used(api)
    assert released >= 2 * POD, (with_job, released)
    assert api.call("GET").body["quota_pods"] == 0  # the record stays until it is deleted
    finished = events.wait_for(
        lambda e: e["type"] == "workload.finished" and e["resource"]["name"] == "one-shot"
    )
    assert finished["data"]["state"] == "complete" and finished["data"]["succeeded"] == 2
    assert _reconcile(suite_config)["jobs_finished"] == 0  # once only
    # deleting it now releases nothing more (its grants went with the pass)
    before = _cpu_used(api)
    assert api.call("DELETE").status == 200
    assert _cpu_used(api) == before
