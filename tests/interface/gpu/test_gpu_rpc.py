"""GpuService over real AMQP RPC: typed refusals with their details, no-cluster behaviour."""

import pytest
from nameko.standalone.rpc import ServiceRpcProxy

from services.gpu.exceptions import (
    GpuModelUnsupported,
    GpusInsufficient,
    InventoryNotReady,
)
from shared.errors import ValidationFailed
from tests.interface.gpu.conftest import container_inventory
from tests.unit.gpu.profile import gpu_pod, node

pytestmark = pytest.mark.interface


def test_without_a_cluster_it_answers_and_says_not_ready(gpu_container, rabbit_config) -> None:
    with ServiceRpcProxy("gpu", rabbit_config) as gpu:
        assert gpu.health() == {"service": "gpu", "status": "ok"}
        assert gpu.inventory()["synced"] is False
        with pytest.raises(InventoryNotReady) as refused:
            gpu.check_request({"count": 1})
        assert refused.value.code == "gpu_inventory_not_ready"
        with pytest.raises(ValidationFailed) as invalid:
            gpu.check_request({"count": 0})
        assert "count" in invalid.value.details["fields"]


def test_refusals_cross_rpc_typed_with_their_details(gpu_container, rabbit_config) -> None:
    inventory = container_inventory(gpu_container)
    inventory.replace_nodes(
        [node("gpu-v100-0", "Tesla-V100-SXM2-16GB", 2), node("gpu-a100-0", "A100-SXM4-40GB", 1)]
    )
    inventory.replace_pods([gpu_pod("a", "gpu-v100-0", 1)])
    inventory.synced = True

    with ServiceRpcProxy("gpu", rabbit_config) as gpu:
        with pytest.raises(GpusInsufficient) as refused:
            gpu.place("p1", {"count": 2, "model": "V100"}, "u-1")
        assert refused.value.details["free"] == {
            "gpu-v100-0": {"model": "V100", "product": "Tesla-V100-SXM2-16GB", "free": 1}
        }
        assert refused.value.details["requested"] == 2  # an int, not "2"

        with pytest.raises(GpuModelUnsupported):
            gpu.check_request({"count": 1, "model": "A100"})

        answer = gpu.place("p1", {"count": 1, "model": "V100"}, "u-1")
        assert answer["limits"] == {"nvidia.com/gpu": 1}
        assert answer["project_id"] == "p1"
        assert gpu.list_allocations("p1") == []
