"""Placement decisions and refusals over an in-memory inventory shaped like the cluster profile.

Nothing is faked but the cluster itself: the inventory is fed NodeFacts/PodFacts directly, as
the watches would feed it.
"""

import dataclasses
from typing import Any

import pytest

from services.gpu import placement
from services.gpu.exceptions import (
    CudaVersionUnsupported,
    GpuArchitectureUnsupported,
    GpuModelUnsupported,
    GpuNodeUnknown,
    GpusInsufficient,
    InventoryNotReady,
)
from services.gpu.inventory import Inventory
from services.gpu.schemas import load_request
from shared.errors import RemoteScsError, ValidationFailed
from tests.unit.gpu.profile import gpu_pod, profile_inventory


def decide(inventory: Inventory, **request: Any) -> dict[str, Any]:
    return placement.decide(inventory, load_request(request))


def test_two_t4_get_the_t4_selector_and_limits() -> None:
    answer = decide(profile_inventory(), count=2, model="T4")
    assert answer["node_selector"] == {
        "nvidia.com/gpu.product": "Tesla-T4",
        "kubernetes.io/arch": "amd64",
    }
    assert answer["limits"] == {"nvidia.com/gpu": 2}
    assert answer["quota"] == {"gpu": {"requested": 2, "overhead": 0}}
    assert answer["suggested_node"] in {"gpu-t4-0", "gpu-t4-1"}
    assert set(answer["candidate_nodes"]) == {"gpu-t4-0", "gpu-t4-1"}


def test_three_v100_are_refused_saying_what_is_free_where() -> None:
    with pytest.raises(GpusInsufficient) as refused:
        decide(profile_inventory(), count=3, model="Tesla V100")
    details = refused.value.details
    assert refused.value.code == "gpus_insufficient"
    assert details["requested"] == 3 and details["model"] == "V100"
    assert details["free"] == {
        "gpu-v100-0": {"model": "V100", "product": "Tesla-V100-SXM2-16GB", "free": 2}
    }
    assert "gpu-v100-0: 2 V100" in refused.value.message


def test_unsupported_model_is_refused() -> None:
    with pytest.raises(GpuModelUnsupported) as refused:
        decide(profile_inventory(), count=1, model="A100")
    assert refused.value.details["model"] == "A100"
    assert "T4" in refused.value.details["supported"]
    assert "450.80.02" in refused.value.message


@pytest.mark.parametrize("request_", [{"arch": "arm64"}, {"node_name": "arm-gpu-0"}])
def test_arm_is_refused(request_: dict[str, Any]) -> None:
    with pytest.raises(GpuArchitectureUnsupported) as refused:
        decide(profile_inventory(), count=1, **request_)
    assert refused.value.code == "gpu_architecture_unsupported"
    assert "arm64" in refused.value.message


def test_the_arm_t4g_model_is_not_a_t4() -> None:
    with pytest.raises(GpuModelUnsupported):
        decide(profile_inventory(), count=1, model="NVIDIA-T4G")


@pytest.mark.parametrize(
    "request_",
    [
        {"cuda_version": "12.0"},
        {"annotations": {"gpu.scs.io/cuda-version": "12.1"}},
        {"containers": [{"name": "train", "env": [{"name": "CUDA_VERSION", "value": "12.2.0"}]}]},
        {
            "containers": [
                {"env": [{"name": "NVIDIA_REQUIRE_CUDA", "value": "cuda>=12.1 brand=tesla"}]}
            ]
        },
    ],
)
def test_cuda_12_is_refused_naming_where_it_was_stated(request_: dict[str, Any]) -> None:
    with pytest.raises(CudaVersionUnsupported) as refused:
        decide(profile_inventory(), count=1, model="T4", **request_)
    details = refused.value.details
    assert details["required"].startswith("12.")
    assert details["max_supported"] == "11.2"
    assert details["source"] in refused.value.message


def test_the_highest_stated_cuda_counts() -> None:
    answer = decide(
        profile_inventory(),
        count=1,
        cuda_version="10.1",
        containers=[{"env": [{"name": "CUDA_VERSION", "value": "11.2.1"}]}],
    )
    assert answer["cuda"]["required"] == "11.2"
    assert "CUDA_VERSION" in answer["cuda"]["source"]


def test_an_unreadable_cuda_version_names_the_field() -> None:
    with pytest.raises(ValidationFailed) as refused:
        decide(profile_inventory(), count=1, annotations={"gpu.scs.io/cuda-version": "new"})
    assert "annotations.gpu.scs.io/cuda-version" in refused.value.details["fields"]


def test_any_supported_model_prefers_the_tightest_fit() -> None:
    answer = decide(profile_inventory(), count=2, model="any")
    assert answer["model"] == "V100"  # 2 free on gpu-v100-0 fits exactly; T4 nodes stay whole
    answer = decide(profile_inventory(), count=3)
    assert answer["model"] == "T4"


def test_allocated_devices_are_not_free() -> None:
    inventory = profile_inventory()
    inventory.upsert_pod(gpu_pod("a", "gpu-t4-0", 3))
    inventory.upsert_pod(gpu_pod("b", "gpu-t4-1", 4))
    with pytest.raises(GpusInsufficient) as refused:
        decide(inventory, count=2, model="T4")
    assert refused.value.details["free"] == {
        "gpu-t4-0": {"model": "T4", "product": "Tesla-T4", "free": 1}
    }

    inventory.upsert_pod(gpu_pod("b", "gpu-t4-1", 4, phase="Succeeded"))  # finished
    assert decide(inventory, count=2, model="T4")["suggested_node"] == "gpu-t4-1"


def test_pending_unbound_pods_hold_nothing() -> None:
    inventory = profile_inventory()
    inventory.upsert_pod(gpu_pod("p", None, 4, phase="Pending"))
    assert decide(inventory, count=4, model="T4")["limits"] == {"nvidia.com/gpu": 4}


def test_a_cordoned_node_is_not_offered() -> None:
    inventory = profile_inventory()
    facts = inventory.nodes["gpu-v100-0"].facts
    inventory.upsert_node(dataclasses.replace(facts, unschedulable=True))
    with pytest.raises(GpusInsufficient):
        decide(inventory, count=1, model="V100")


def test_a_named_node_pins_the_placement() -> None:
    answer = decide(profile_inventory(), count=1, node_name="gpu-t4-1")
    assert answer["suggested_node"] == "gpu-t4-1"
    assert answer["node_selector"]["kubernetes.io/hostname"] == "gpu-t4-1"
    inventory = profile_inventory()
    inventory.upsert_pod(gpu_pod("a", "gpu-t4-1", 4))
    with pytest.raises(GpusInsufficient) as refused:
        decide(inventory, count=1, node_name="gpu-t4-1")
    assert "node gpu-t4-1 does not have 1 x any supported GPU free" in refused.value.message
    with pytest.raises(GpuNodeUnknown):
        decide(profile_inventory(), count=1, node_name="cpu-0")
    with pytest.raises(GpuModelUnsupported):
        decide(profile_inventory(), count=1, node_name="gpu-a100-0")


def test_no_decision_before_the_first_listing() -> None:
    with pytest.raises(InventoryNotReady):
        decide(Inventory(), count=1)


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        ({}, "count"),
        ({"count": 0}, "count"),
        ({"count": "2"}, "count"),
        ({"count": 1, "colour": "green"}, "colour"),
        ({"count": 1, "containers": [{"env": [{"value": "x"}]}]}, "containers"),
    ],
)
def test_bad_input_names_the_field(request_: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        load_request(request_)
    assert field in refused.value.details["fields"]


def test_refusals_keep_their_details_across_rpc() -> None:
    # nameko rebuilds an error from its args on the caller's side.
    error = GpusInsufficient("no", {"free": {"n": {"model": "T4", "free": 1}}, "requested": 3})
    again = GpusInsufficient(*error.args)
    assert again.details == error.details
    # A process that does not import this class (the gateway) rebuilds a RemoteScsError.
    remote = RemoteScsError(*error.args)
    assert (remote.code, remote.http_status) == ("gpus_insufficient", 422)
    assert remote.details == error.details
