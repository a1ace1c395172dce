"""A changed pod template of a GPU workload is placed again by the gpu service, as on create.

Real: the workload database (SQLite, migrated) with its outbox, and the workload logic
(lifecycle, editing, history, gpus). Faked:
- the gpu service, by `RulesGpu`: it reads the template's nodeSelector, GPU limits and CUDA env
  and refuses as the real one does, in its order and with its codes and `details.field`
  (architecture: `arch`; a named node: `node_name`; an unsupported model: `model`; CUDA above
  11.2; more than 4 devices: `gpus_insufficient`), else answers a Tesla-T4 placement; it records
  every template it is shown;
- the quota service, by `CountingQuota`, which grants everything and records its calls;
- the cluster, by `FakeCluster`: objects in a dict, `update` applies the mutation and records
  the result, ReplicaSets listed for the rollback.
"""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from services.workload import editing, history, lifecycle
from services.workload.deps import Deps
from services.workload.exceptions import GpuPlacementRefused, OwnerUnavailable
from services.workload.models import OutboxEvent, Workload
from services.workload.quota_usage import pod_cost
from shared.errors import RemoteScsError, ScsError

NS, PROJECT = "ns", "p1"
ARCH, PRODUCT, HOST = "kubernetes.io/arch", "nvidia.com/gpu.product", "kubernetes.io/hostname"
A100 = "NVIDIA-A100-SXM4-40GB"
NODES = {
    "gpu-t4-0": ("amd64", "Tesla-T4"),
    "gpu-t4-1": ("amd64", "Tesla-T4"),
    "arm-gpu-0": ("arm64", "NVIDIA-T4G"),
    "gpu-a100-0": ("amd64", A100),
}
PIN = {PRODUCT: "Tesla-T4", ARCH: "amd64"}


def _refusal(code: str, details: dict[str, Any]) -> RemoteScsError:
    return RemoteScsError(f"refused: {code}", details, code, 422)


class RulesGpu:
    def __init__(self) -> None:
        self.templates: list[dict[str, Any]] = []

    def place_template(self, project_id: str, template: dict, actor: str) -> dict[str, Any]:
        self.templates.append(copy.deepcopy(template))
        spec = template["spec"]
        selector = spec.get("nodeSelector") or {}
        arch, node, product = selector.get(ARCH), selector.get(HOST), selector.get(PRODUCT)
        if arch and arch != "amd64":
            raise _refusal("gpu_architecture_unsupported", {"field": "arch", "arch": arch})
        if node:
            node_arch, product = NODES[node]
            if node_arch != "amd64":
                details = {"field": "node_name", "node": node, "arch": node_arch}
                raise _refusal("gpu_architecture_unsupported", details)
            if product == A100:
                raise _refusal("gpu_model_unsupported", {"field": "node_name", "model": "A100"})
        if product == A100:
            raise _refusal("gpu_model_unsupported", {"field": "model", "model": "A100"})
        for container in spec["containers"]:
            for var in container.get("env") or []:
                if var["name"] == "CUDA_VERSION" and not var["value"].startswith(("10.", "11.")):
                    raise _refusal("cuda_version_unsupported", {"required": var["value"]})
        count = sum(
            int((c.get("resources") or {}).get("limits", {}).get("nvidia.com/gpu", 0))
            for c in spec["containers"]
        )
        if count > 4:
            raise _refusal("gpus_insufficient", {"requested": count})
        pinned = {PRODUCT: product or "Tesla-T4", ARCH: "amd64"}
        if node:
            pinned[HOST] = node
        return {"product": pinned[PRODUCT], "node_selector": pinned}


class CountingQuota:
    def __init__(self) -> None:
        self.reserved: list[str] = []
        self.released: list[str] = []

    def reserve(self, project: str, key: str, items: dict, actor: str) -> dict:
        self.reserved.append(key)
        return {"key": key}

    def commit(self, key: str, actor: str) -> dict:
        return {"key": key}

    def release(self, key: str, actor: str) -> dict:
        self.released.append(key)
        return {"key": key}


class FakeCluster:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], dict[str, Any]] = {}
        self.replica_sets: list[dict[str, Any]] = []
        self.updates: list[dict[str, Any]] = []

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any]:
        return copy.deepcopy(self.objects[(kind, name)])

    def update(self, kind: str, namespace: str, name: str, mutate: Any) -> dict[str, Any]:
        body = self.get(kind, namespace, name)
        mutate(body)
        self.objects[(kind, name)] = body
        self.updates.append(copy.deepcopy(body))
        return body

    def list_objects(self, kind: str, namespace: Any = None, selector: Any = None) -> dict:
        return {"items": copy.deepcopy(self.replica_sets) if kind == "ReplicaSet" else []}


def _workload(
    name: str, kind: str = "Deployment", gpus: int = 1, selector: dict | None = None
) -> dict[str, Any]:
    resources: dict[str, Any] = {"requests": {"cpu": "500m", "memory": "1Gi"}}
    if gpus:
        resources["limits"] = {"nvidia.com/gpu": str(gpus)}
    labels = {"app": name, "scs.io/workload": name, "scs.io/managed": "true"}
    spec: dict[str, Any] = {
        "runtimeClassName": "kata",
        "containers": [{"name": "train", "image": "trainer:1", "resources": resources}],
    }
    if selector is not None:
        spec["nodeSelector"] = dict(selector)
    body = {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {"name": name, "namespace": NS, "uid": f"uid-{name}", "labels": {}},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": labels}, "spec": spec},
        },
    }
    if kind == "Deployment":
        body["spec"]["replicas"] = 1
    return body


class World:
    def __init__(self, db: Any, with_gpu: bool = True) -> None:
        self.db = db
        self.gpu = RulesGpu()
        self.quota = CountingQuota()
        self.cluster = FakeCluster()
        owners = {"gpu": self.gpu} if with_gpu else {}
        self.deps = Deps(db=db, cluster=self.cluster, quota=self.quota, owners=owners)  # type: ignore[arg-type]

    def add(self, body: dict[str, Any], stopped: bool = False) -> None:
        self.cluster.objects[(body["kind"], body["metadata"]["name"])] = copy.deepcopy(body)
        now = datetime.now(UTC)
        with self.db.transaction() as session:
            session.add(
                Workload(
                    id=str(uuid.uuid4()),
                    project_id=PROJECT,
                    namespace=NS,
                    kind=body["kind"],
                    name=body["metadata"]["name"],
                    uid=body["metadata"]["uid"],
                    replicas=0 if stopped else 1,
                    remembered_replicas=1 if stopped else None,
                    stopped=stopped,
                    revision=1,
                    pod_cost=pod_cost(body).to_dict(),
                    storage={},
                    quota_grants=[] if stopped else [{"key": "g1", "pods": 1}],
                    created_by="t",
                    created_at=now,
                    updated_at=now,
                )
            )

    def selector(self, kind: str, name: str) -> dict[str, str]:
        return self.cluster.objects[(kind, name)]["spec"]["template"]["spec"].get("nodeSelector")

    def events(self) -> list[str]:
        with self.db.transaction() as session:
            return [row.event_type for row in session.scalars(select(OutboxEvent))]

    def revision(self, name: str) -> int:
        with self.db.transaction() as session:
            row = session.scalars(select(Workload).where(Workload.name == name)).one()
            return row.revision

    def assert_unchanged(self, name: str) -> None:
        """A refusal changed nothing: no cluster write, no reservation, no record change."""
        assert self.cluster.updates == []
        assert self.quota.reserved == [] and self.quota.released == []
        assert self.revision(name) == 1
        assert self.events() == []


@pytest.fixture
def world(workload_db: Any) -> World:
    world = World(workload_db)
    world.add(_workload("train", selector=PIN))
    return world


AFFINITY_FIELD = (
    "spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution"
    ".nodeSelectorTerms[0].matchExpressions[0]"
)


@pytest.mark.parametrize(
    "scheduling, code, field, reason",
    [
        (
            {"node_selector": {HOST: "arm-gpu-0"}},
            "gpu_architecture_unsupported",
            "node_name",
            None,
        ),
        ({"node_selector": {PRODUCT: A100}}, "gpu_model_unsupported", "model", None),
        (
            {"node_affinity": {ARCH: ["arm64"]}},
            "gpu_placement_refused",
            AFFINITY_FIELD,
            "gpu_architecture_unsupported",
        ),
        (
            {"node_affinity": {PRODUCT: [A100]}},
            "gpu_placement_refused",
            AFFINITY_FIELD,
            "gpu_model_unsupported",
        ),
    ],
)
def test_a_scheduling_change_the_gpu_service_refuses_changes_nothing(
    world: World, scheduling: dict, code: str, field: str, reason: str | None
) -> None:
    with pytest.raises(ScsError) as caught:
        lifecycle.set_scheduling(world.deps, PROJECT, NS, "train", scheduling, "t")

    assert caught.value.http_status == 422
    assert caught.value.code == code
    assert caught.value.details["field"] == field
    if reason:
        assert caught.value.details["reason"] == reason
    assert len(world.gpu.templates) == 1
    world.assert_unchanged("train")
    assert world.selector("Deployment", "train") == PIN


def test_a_scheduling_change_is_placed_again_and_pinned(world: World) -> None:
    scheduling = {"node_selector": {HOST: "gpu-t4-1"}, "tolerations": [{"key": "gpu"}]}

    record = lifecycle.set_scheduling(world.deps, PROJECT, NS, "train", scheduling, "t")

    assert world.gpu.templates[0]["spec"]["nodeSelector"] == {HOST: "gpu-t4-1"}
    assert world.selector("Deployment", "train") == {HOST: "gpu-t4-1", **PIN}
    assert record["revision"] == 2
    assert world.events() == ["workload.updated"]


def test_dropping_the_selector_is_pinned_again(world: World) -> None:
    # the form replaces the whole nodeSelector: the product pin must come back
    lifecycle.set_scheduling(world.deps, PROJECT, NS, "train", {"tolerations": []}, "t")

    assert len(world.gpu.templates) == 1
    assert world.selector("Deployment", "train") == PIN


def test_without_the_gpu_service_a_scheduling_change_is_refused(workload_db: Any) -> None:
    world = World(workload_db, with_gpu=False)
    world.add(_workload("train", selector=PIN))

    with pytest.raises(OwnerUnavailable) as caught:
        lifecycle.set_scheduling(
            world.deps, PROJECT, NS, "train", {"node_selector": {HOST: "gpu-t4-0"}}, "t"
        )

    assert caught.value.http_status == 503 and caught.value.details["owner"] == "gpu"
    world.assert_unchanged("train")


def test_a_scheduling_change_of_a_cpu_workload_does_not_ask_the_gpu_service(
    world: World,
) -> None:
    world.add(_workload("web", gpus=0))

    lifecycle.set_scheduling(
        world.deps, PROJECT, NS, "web", {"node_selector": {"disk": "ssd"}}, "t"
    )

    assert world.gpu.templates == []
    assert world.selector("Deployment", "web") == {"disk": "ssd"}


def test_raising_the_gpu_count_is_placed_and_may_be_refused(world: World) -> None:
    change = {"containers": [{"name": "train", "resources": {"limits": {"gpu": 8}}}]}
    with pytest.raises(ScsError) as caught:
        lifecycle.update(world.deps, PROJECT, NS, "train", change, "t")
    assert caught.value.code == "gpus_insufficient"
    world.assert_unchanged("train")

    change = {"containers": [{"name": "train", "resources": {"limits": {"gpu": 2}}}]}
    record = lifecycle.update(world.deps, PROJECT, NS, "train", change, "t")

    shown = world.gpu.templates[-1]["spec"]["containers"][0]["resources"]["limits"]
    assert shown["nvidia.com/gpu"] == "2"
    assert record["pod_cost"]["gpu"] == 2
    assert world.selector("Deployment", "train") == PIN


def test_an_update_that_leaves_placement_alone_does_not_ask_the_gpu_service(
    world: World,
) -> None:
    change = {"containers": [{"name": "train", "image": "trainer:2", "env": {"EPOCHS": "3"}}]}

    lifecycle.update(world.deps, PROJECT, NS, "train", change, "t")
    lifecycle.update(world.deps, PROJECT, NS, "train", {"labels": {"tier": "gpu"}}, "t")

    assert world.gpu.templates == []
    assert len(world.cluster.updates) == 2


def test_a_cuda_env_change_is_checked(world: World) -> None:
    change = {"containers": [{"name": "train", "env": {"CUDA_VERSION": "12.4.0"}}]}

    with pytest.raises(ScsError) as caught:
        lifecycle.update(world.deps, PROJECT, NS, "train", change, "t")

    assert caught.value.code == "cuda_version_unsupported"
    world.assert_unchanged("train")


def test_a_cpu_workload_that_starts_asking_for_gpus_is_placed(world: World) -> None:
    world.add(_workload("web", gpus=0, selector={PRODUCT: A100}))
    change = {"containers": [{"name": "train", "resources": {"limits": {"gpu": 1}}}]}

    with pytest.raises(ScsError) as caught:
        lifecycle.update(world.deps, PROJECT, NS, "web", change, "t")

    assert caught.value.code == "gpu_model_unsupported"
    assert world.cluster.updates == []


def _manifest(body: dict[str, Any]) -> str:
    body = copy.deepcopy(body)
    for key in ("uid", "namespace"):
        body["metadata"].pop(key, None)
    return yaml.safe_dump(body)


def test_a_yaml_edit_the_gpu_service_refuses_changes_nothing(world: World) -> None:
    edited = _workload("train", selector={PRODUCT: A100})

    with pytest.raises(ScsError) as caught:
        editing.edit_yaml(world.deps, PROJECT, NS, "train", _manifest(edited), "t")

    assert caught.value.http_status == 422
    assert caught.value.code == "gpu_model_unsupported"
    assert caught.value.details["field"] == "model"
    world.assert_unchanged("train")


def test_a_yaml_edit_that_keeps_the_placement_does_not_ask_the_gpu_service(
    world: World,
) -> None:
    edited = _workload("train", selector=PIN)
    edited["spec"]["template"]["spec"]["containers"][0]["image"] = "trainer:2"

    editing.edit_yaml(world.deps, PROJECT, NS, "train", _manifest(edited), "t")

    assert world.gpu.templates == []
    assert world.selector("Deployment", "train") == PIN


def test_a_yaml_edit_with_a_new_selector_is_pinned(world: World) -> None:
    edited = _workload("train", selector={HOST: "gpu-t4-0"})

    editing.edit_yaml(world.deps, PROJECT, NS, "train", _manifest(edited), "t")

    assert len(world.gpu.templates) == 1
    assert world.selector("Deployment", "train") == {HOST: "gpu-t4-0", **PIN}


def _replica_set(revision: int, template: dict[str, Any]) -> dict[str, Any]:
    template = copy.deepcopy(template)
    template["metadata"]["labels"]["pod-template-hash"] = f"h{revision}"
    return {
        "metadata": {
            "name": f"train-h{revision}",
            "annotations": {"deployment.kubernetes.io/revision": str(revision)},
            "ownerReferences": [{"uid": "uid-train"}],
            "creationTimestamp": "2024-01-01T00:00:00Z",
        },
        "spec": {"template": template},
    }


def test_a_rollback_to_a_template_that_would_now_be_refused_changes_nothing(
    world: World,
) -> None:
    old = _workload("train", selector={HOST: "arm-gpu-0"})["spec"]["template"]
    current = world.cluster.objects[("Deployment", "train")]["spec"]["template"]
    world.cluster.replica_sets = [_replica_set(1, old), _replica_set(2, current)]

    with pytest.raises(ScsError) as caught:
        history.rollback(world.deps, PROJECT, NS, "train", 1, "t")

    assert caught.value.code == "gpu_architecture_unsupported"
    assert caught.value.details["field"] == "node_name"
    world.assert_unchanged("train")


def test_a_rollback_keeping_the_placement_does_not_ask_the_gpu_service(world: World) -> None:
    current = world.cluster.objects[("Deployment", "train")]["spec"]["template"]
    old = copy.deepcopy(current)
    old["spec"]["containers"][0]["image"] = "trainer:0"
    world.cluster.replica_sets = [_replica_set(1, old), _replica_set(2, current)]

    history.rollback(world.deps, PROJECT, NS, "train", 1, "t")

    assert world.gpu.templates == []
    template = world.cluster.objects[("Deployment", "train")]["spec"]["template"]
    assert template["spec"]["containers"][0]["image"] == "trainer:0"


def test_an_affinity_refusal_names_the_expression(world: World) -> None:
    with pytest.raises(GpuPlacementRefused) as caught:
        lifecycle.set_scheduling(
            world.deps, PROJECT, NS, "train", {"node_affinity": {ARCH: ["arm64"]}}, "t"
        )
    assert caught.value.details["label"] == ARCH


def test_a_stopped_daemonset_keeps_its_stop_selector_through_a_scheduling_change(
    workload_db: Any,
) -> None:
    world = World(workload_db)
    body = _workload("agent", kind="DaemonSet", gpus=0, selector={"scs.io/stopped": "true"})
    world.add(body, stopped=True)

    lifecycle.set_scheduling(
        world.deps, PROJECT, NS, "agent", {"node_selector": {"disk": "ssd"}}, "t"
    )

    assert world.selector("DaemonSet", "agent") == {"disk": "ssd", "scs.io/stopped": "true"}
    assert world.quota.reserved == []
