"""GPU placement reads the pod's required node affinity (arch, product, node).

Faked: the gpu service, by `ArchOnlyGpu`, which refuses as the real one does (a registered-
looking ScsError with details.field "arch") a template whose nodeSelector names a non-amd64
architecture, and otherwise answers a T4 placement. Nothing else is used.
"""

import copy
from typing import Any

import pytest

from services.workload import gpus
from services.workload.exceptions import GpuPlacementRefused
from services.workload.manifests import Document
from shared.errors import RemoteScsError


class ArchOnlyGpu:
    def __init__(self) -> None:
        self.templates: list[dict] = []

    def place_template(self, project_id: str, template: dict, actor: str) -> dict[str, Any]:
        self.templates.append(copy.deepcopy(template))
        arch = (template["spec"].get("nodeSelector") or {}).get("kubernetes.io/arch")
        if arch and arch != "amd64":
            raise RemoteScsError(
                f"GPUs on {arch} nodes are not used by the platform; only amd64",
                {"field": "arch", "arch": arch},
                "gpu_architecture_unsupported",
                422,
            )
        return {"product": "Tesla-T4", "node_selector": {"nvidia.com/gpu.product": "Tesla-T4"}}


def _gpu_deployment(expressions: list[dict]) -> dict:
    return {
        "kind": "Deployment",
        "metadata": {"name": "g"},
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {"name": "c", "image": "x", "resources": {"limits": {"nvidia.com/gpu": 1}}}
                    ],
                    "affinity": {
                        "nodeAffinity": {
                            "requiredDuringSchedulingIgnoredDuringExecution": {
                                "nodeSelectorTerms": [{"matchExpressions": expressions}]
                            }
                        }
                    },
                }
            }
        },
    }


def test_an_arm_only_affinity_is_refused_naming_the_expression() -> None:
    body = _gpu_deployment(
        [
            {"key": "topology.kubernetes.io/zone", "operator": "Exists"},
            {"key": "kubernetes.io/arch", "operator": "In", "values": ["arm64"]},
        ]
    )
    gpu = ArchOnlyGpu()
    with pytest.raises(GpuPlacementRefused) as caught:
        gpus.place(gpu, "p", Document(0, "workload", body), "t")

    field = (
        "spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution"
        ".nodeSelectorTerms[0].matchExpressions[1]"
    )
    assert caught.value.http_status == 422
    assert caught.value.details["field"] == field
    assert caught.value.details["reason"] == "gpu_architecture_unsupported"
    # the workload's own template is not changed by what the gpu service was shown
    assert "nodeSelector" not in body["spec"]["template"]["spec"]


@pytest.mark.parametrize(
    "expression, pins",
    [
        ({"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64", "arm64"]}, {}),
        ({"key": "kubernetes.io/arch", "operator": "NotIn", "values": ["amd64"]}, {}),
        (
            {"key": "nvidia.com/gpu.product", "operator": "In", "values": ["NVIDIA-A100"]},
            {"nvidia.com/gpu.product": "NVIDIA-A100"},
        ),
        ({"key": "nvidia.com/gpu.product", "operator": "In", "values": ["A", "B"]}, {}),
        (
            {"key": "kubernetes.io/hostname", "operator": "In", "values": ["arm-gpu-0"]},
            {"kubernetes.io/hostname": "arm-gpu-0"},
        ),
    ],
)
def test_which_expressions_pin_a_label(expression: dict, pins: dict) -> None:
    template = _gpu_deployment([expression])["spec"]["template"]
    found = gpus.affinity_pins(template, "spec.template.spec")
    assert {label: value for label, (value, _f) in found.items()} == pins


def test_an_amd64_affinity_is_placed_and_the_selector_merged() -> None:
    body = _gpu_deployment([{"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]}])
    original = copy.deepcopy(body)
    gpu = ArchOnlyGpu()

    placement = gpus.place(gpu, "p", Document(0, "workload", body), "t")

    assert placement["product"] == "Tesla-T4"
    assert body["spec"]["template"]["spec"]["nodeSelector"] == {
        "nvidia.com/gpu.product": "Tesla-T4"
    }
    assert gpu.templates[0] == original["spec"]["template"]
