"""Issue 5, GPU acceptance, through the gateway against the local cluster.

- 2 x T4: the dry-run placement's node selector and limits put a real pod on a T4 node (the
  real scheduler binds it), the inventory counts the devices, gpu.allocated / gpu.released
  go out on the bus when the pod starts and goes away;
- 3 x V100 on the profile (one node with 2) is refused saying what is free where;
- an unsupported model (A100), the Arm node, and CUDA 12 are refused with the reason;
- who may see what (gpu.view for cloud admins, gpu.view_summary for members).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from kombu import Connection, Queue
from kubernetes import client as k8s

from tests.e2e.cluster.support import wait_until
from tests.interface.gateway.conftest import Client

pytestmark = pytest.mark.e2e

PROFILE_GPU_NODES = {"gpu-t4-0", "gpu-t4-1", "gpu-v100-0", "gpu-a100-0", "arm-gpu-0"}


def placements(world: dict[str, Any]) -> str:
    return f"/api/v1/projects/{world['projects']['own']}/gpu/placements"


@pytest.fixture(scope="module")
def inventory(client: Client, world: dict[str, Any]) -> dict[str, Any]:
    """The inventory once the service has listed the profile's GPU nodes."""

    def synced() -> dict[str, Any] | None:
        reply = client.call("GET", "/api/v1/gpus", token=world["tokens"]["cloud_admin"])
        assert reply.status == 200, reply.body
        names = {n["node"] for n in reply.body["nodes"]}
        return reply.body if reply.body["synced"] and PROFILE_GPU_NODES <= names else None

    def seen() -> str:
        body = client.call("GET", "/api/v1/gpus", token=world["tokens"]["cloud_admin"]).body
        nodes = sorted(n["node"] for n in body["nodes"])
        return f"synced={body['synced']}, GPU nodes listed: {nodes or 'none'}"

    answer = wait_until(
        "the GPU inventory to list the profile's GPU nodes", synced, timeout=30, explain=seen
    )
    return answer  # type: ignore[no-any-return]


def test_inventory_reads_the_profile(inventory: dict[str, Any]) -> None:
    nodes = {n["node"]: n for n in inventory["nodes"]}
    assert nodes["gpu-t4-0"]["model"] == "T4" and nodes["gpu-t4-0"]["allocatable"] == 4
    assert nodes["gpu-v100-0"]["model"] == "V100" and nodes["gpu-v100-0"]["supported"]
    assert not nodes["gpu-a100-0"]["supported"]
    assert nodes["arm-gpu-0"]["arch"] == "arm64" and not nodes["arm-gpu-0"]["supported"]
    assert inventory["matrix"]["driver_version"] == "450.80.02"
    assert inventory["matrix"]["max_cuda"] == "11.2"


def _gpu_pod(name: str, placement: dict[str, Any]) -> k8s.V1Pod:
    limits = {key: str(value) for key, value in placement["limits"].items()}
    container = k8s.V1Container(
        name="cuda",
        image="nvidia/cuda:11.0.3-base-ubuntu20.04",
        resources=k8s.V1ResourceRequirements(limits={**limits, "cpu": "500m", "memory": "256Mi"}),
    )
    return k8s.V1Pod(
        metadata=k8s.V1ObjectMeta(name=name),
        spec=k8s.V1PodSpec(
            containers=[container],
            node_selector=placement["node_selector"],
            runtime_class_name="kata",
            termination_grace_period_seconds=0,
        ),
    )


def _drain(connection: Connection, queue: Queue, wanted: str, uid: str) -> dict[str, Any] | None:
    bound = queue(connection.channel())
    while (message := bound.get(no_ack=True)) is not None:
        body = message.payload if isinstance(message.payload, dict) else json.loads(message.body)
        if body["type"] == wanted and body["resource"]["uid"] == uid:
            return body  # type: ignore[no-any-return]
    return None


def test_two_t4_land_on_a_t4_node(
    client: Client,
    world: dict[str, Any],
    core: k8s.CoreV1Api,
    project_namespace: str,
    inventory: dict[str, Any],
    suite_config: dict[str, Any],
    gpu_events: Queue,
) -> None:
    reply = client.call(
        "POST",
        placements(world),
        token=world["tokens"]["user"],
        json_body={"count": 2, "model": "T4", "cuda_version": "11.0"},
    )
    assert reply.status == 200, reply.body
    placement = reply.body
    assert placement["node_selector"] == {
        "nvidia.com/gpu.product": "Tesla-T4",
        "kubernetes.io/arch": "amd64",
    }
    assert placement["limits"] == {"nvidia.com/gpu": 2}
    assert placement["quota"] == {"gpu": {"requested": 2, "overhead": 0}}

    pod = core.create_namespaced_pod(project_namespace, _gpu_pod("train", placement))
    node_name = wait_until(
        "the scheduler to bind the GPU pod",
        lambda: core.read_namespaced_pod("train", project_namespace).spec.node_name,
        timeout=30,
    )
    node = core.read_node(node_name)
    assert node.metadata.labels["nvidia.com/gpu.product"] == "Tesla-T4"

    # The pod runs (KWOK), the inventory counts its devices, gpu.allocated goes out.
    def counted() -> bool:
        body = client.call("GET", "/api/v1/gpus", token=world["tokens"]["cloud_admin"]).body
        row = next(n for n in body["nodes"] if n["node"] == node_name)
        return row["allocated"] >= 2

    wait_until("the inventory to count 2 allocated T4", counted, timeout=30)
    with Connection(suite_config["AMQP_URI"]) as connection:
        allocated = wait_until(
            "gpu.allocated on the bus",
            lambda: _drain(connection, gpu_events, "gpu.allocated", pod.metadata.uid),
            timeout=30,
        )
        assert allocated["data"] == {
            "node": node_name,
            "model": "T4",
            "product": "Tesla-T4",
            "count": 2,
        }
        assert allocated["project"] == world["projects"]["own"]

        core.delete_namespaced_pod("train", project_namespace, grace_period_seconds=0)
        released = wait_until(
            "gpu.released on the bus",
            lambda: _drain(connection, gpu_events, "gpu.released", pod.metadata.uid),
            timeout=30,
        )
        assert released["data"]["count"] == 2 and released["data"]["node"] == node_name


def test_three_v100_are_refused_saying_what_is_free(
    client: Client, world: dict[str, Any], inventory: dict[str, Any]
) -> None:
    reply = client.call(
        "POST",
        placements(world),
        token=world["tokens"]["user"],
        json_body={"count": 3, "model": "V100"},
    )
    assert reply.status == 422, reply.body
    assert reply.code == "gpus_insufficient"
    assert reply.body["details"]["requested"] == 3
    assert reply.body["details"]["free"]["gpu-v100-0"] == {
        "model": "V100",
        "product": "Tesla-V100-SXM2-16GB",
        "free": 2,
    }
    assert "gpu-v100-0: 2 V100" in reply.body["message"]


@pytest.mark.parametrize(
    ("body", "code", "says"),
    [
        ({"count": 1, "model": "A100"}, "gpu_model_unsupported", "A100"),
        ({"count": 1, "node_name": "arm-gpu-0"}, "gpu_architecture_unsupported", "arm64"),
        ({"count": 1, "arch": "arm64"}, "gpu_architecture_unsupported", "arm64"),
        ({"count": 1, "model": "T4", "cuda_version": "12.0"}, "cuda_version_unsupported", "12.0"),
        (
            {
                "count": 1,
                "containers": [
                    {
                        "name": "train",
                        "env": [{"name": "NVIDIA_REQUIRE_CUDA", "value": "cuda>=12.1"}],
                    }
                ],
            },
            "cuda_version_unsupported",
            "NVIDIA_REQUIRE_CUDA",
        ),
    ],
)
def test_refusals_give_the_reason(
    client: Client,
    world: dict[str, Any],
    inventory: dict[str, Any],
    body: dict,
    code: str,
    says: str,
) -> None:
    reply = client.call("POST", placements(world), token=world["tokens"]["user"], json_body=body)
    assert reply.status == 422, reply.body
    assert reply.code == code
    assert says in reply.body["message"]


def test_bad_input_is_400_naming_the_field(client: Client, world: dict[str, Any]) -> None:
    reply = client.call(
        "POST", placements(world), token=world["tokens"]["user"], json_body={"count": 0}
    )
    assert reply.status == 400 and reply.code == "validation_failed"
    assert "count" in reply.body["details"]["fields"]


def test_who_sees_what(client: Client, world: dict[str, Any], inventory: dict[str, Any]) -> None:
    own, other = world["projects"]["own"], world["projects"]["other"]
    user = world["tokens"]["user"]
    assert client.call("GET", "/api/v1/gpus", token=user).status == 403
    summary = client.call("GET", f"/api/v1/projects/{own}/gpus", token=user)
    assert summary.status == 200, summary.body
    t4 = next(m for m in summary.body["models"] if m["model"] == "T4")
    assert t4["nodes"] == 2 and t4["allocatable"] == 8 and t4["supported"]
    assert "gpu-t4-0" not in json.dumps(summary.body)  # no node names in the summary
    assert client.call("GET", f"/api/v1/projects/{other}/gpus", token=user).status == 403
    assert (
        client.call(
            "POST", placements({"projects": {"own": other}}), token=user, json_body={"count": 1}
        ).status
        == 403
    )


def test_the_placement_quota_items_charge_the_project(
    client: Client, world: dict[str, Any], inventory: dict[str, Any], suite_config: dict[str, Any]
) -> None:
    """The caller reserves what `place` says; the quota service enforces the gpu limit."""
    from nameko.standalone.rpc import ClusterRpcProxy

    from services.quota.exceptions import QuotaExceeded

    project = world["projects"]["other"]
    limits = client.call(
        "PUT",
        f"/api/v1/projects/{project}/quota",
        token=world["tokens"]["cloud_admin"],
        json_body={"limits": {"gpu": 2}},
    )
    assert limits.status == 200, limits.body

    with ClusterRpcProxy({"AMQP_URI": suite_config["AMQP_URI"]}) as rpc:
        first = rpc.gpu.place(project, {"count": 2, "model": "T4"}, "u-test")
        rpc.quota.reserve(project, "gpu-e2e-1", first["quota"], "u-test")
        second = rpc.gpu.place(project, {"count": 1, "model": "T4"}, "u-test")
        with pytest.raises(QuotaExceeded) as refused:
            rpc.quota.reserve(project, "gpu-e2e-2", second["quota"], "u-test")
        assert "gpu" in refused.value.details
        rpc.quota.release("gpu-e2e-1", "u-test")
