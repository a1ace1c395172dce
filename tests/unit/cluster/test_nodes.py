"""Protected node labels and taints (pure functions, no fakes)."""

import pytest

from services.cluster import nodes
from services.cluster.exceptions import ProtectedNodeMetadata
from tests.unit.cluster.conftest import node

PLATFORM = {
    "kubernetes.io/arch": "amd64",
    "nvidia.com/gpu.product": "Tesla-T4",
    "katacontainers.io/kata-runtime": "true",
    "team": "ml",
}


@pytest.mark.parametrize(
    "key", ["kubernetes.io/arch", "nvidia.com/gpu.product", "katacontainers.io/kata-runtime"]
)
def test_platform_labels_cannot_be_removed(key):
    with pytest.raises(ProtectedNodeMetadata) as caught:
        nodes.label_patch(PLATFORM, {}, [key])
    assert caught.value.details["fields"]["labels"] == [key]
    assert caught.value.code == "protected_node_metadata" and caught.value.http_status == 422


def test_platform_labels_cannot_be_changed_but_may_be_restated():
    with pytest.raises(ProtectedNodeMetadata):
        nodes.label_patch(PLATFORM, {"kubernetes.io/arch": "arm64"}, [])
    patch = nodes.label_patch(PLATFORM, {"kubernetes.io/arch": "amd64"}, [])
    assert patch == {"metadata": {"labels": {"kubernetes.io/arch": "amd64"}}}


def test_own_labels_are_added_and_removed():
    patch = nodes.label_patch(PLATFORM, {"rack": "r1"}, ["team", "absent"])
    assert patch == {"metadata": {"labels": {"team": None, "rack": "r1"}}}


def test_taints_are_added_replaced_and_removed_under_the_resource_version():
    current = node(
        "n1",
        taints=[
            {"key": "dedicated", "value": "a", "effect": "NoSchedule"},
            {"key": "old", "effect": "NoExecute"},
        ],
    )
    patch = nodes.taint_patch(
        current,
        [{"key": "dedicated", "value": "b", "effect": "NoSchedule"}],
        [{"key": "old", "effect": None}],
    )
    assert patch == {
        "metadata": {"resourceVersion": "7"},
        "spec": {"taints": [{"key": "dedicated", "value": "b", "effect": "NoSchedule"}]},
    }


def test_platform_taints_cannot_be_removed_and_system_taints_not_touched():
    current = node(
        "n1", taints=[{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]
    )
    with pytest.raises(ProtectedNodeMetadata, match="nvidia.com/gpu"):
        nodes.taint_patch(current, [], [{"key": "nvidia.com/gpu", "effect": None}])
    with pytest.raises(ProtectedNodeMetadata, match="managed by Kubernetes"):
        nodes.taint_patch(
            current, [{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}], []
        )
    added = nodes.taint_patch(current, [{"key": "nvidia.com/gpu", "effect": "NoExecute"}], [])
    assert len(added["spec"]["taints"]) == 2


def test_cordon_patch():
    assert nodes.cordon_patch(True) == {"spec": {"unschedulable": True}}
