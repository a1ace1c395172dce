"""GpuService entrypoints through nameko's worker_factory.

Real: the inventory (the profile-shaped in-memory one from profile.py, passed in place of the
watcher's), the request context, and the database for the allocations list. Faked by
worker_factory: the outbox relay (MagicMock; it only publishes in the background).
"""

import pytest
from nameko.testing.services import worker_factory

from services.gpu.exceptions import (
    CudaVersionUnsupported,
    GpuArchitectureUnsupported,
    GpusInsufficient,
)
from services.gpu.service import GpuService
from shared.context import Context
from shared.db import Database
from shared.errors import ValidationFailed
from tests.unit.gpu.profile import profile_inventory


def service(database: Database | None = None) -> GpuService:
    return worker_factory(
        GpuService,
        gpus=profile_inventory(),
        context=Context({"actor": "u-1"}),
        **({"db": database} if database else {}),
    )


def test_place_answers_selector_limits_and_quota() -> None:
    answer = service().place("p1", {"count": 2, "model": "T4"})
    assert answer["project_id"] == "p1"
    assert answer["limits"] == {"nvidia.com/gpu": 2}
    assert answer["quota"] == {"gpu": {"requested": 2, "overhead": 0}}


def test_check_request_refuses_typed() -> None:
    with pytest.raises(GpusInsufficient):
        service().check_request({"count": 3, "model": "V100"})
    with pytest.raises(ValidationFailed):
        service().check_request({"count": "three"})
    with pytest.raises(ValidationFailed):
        service().place("", {"count": 1})


def test_inventory_and_summary() -> None:
    full = service().inventory()
    assert full["matrix"]["driver_version"] == "450.80.02"
    assert {n["node"] for n in full["nodes"]} >= {"gpu-t4-0", "arm-gpu-0"}
    summary = service().inventory_summary()
    assert "nodes" not in summary and summary["synced"]
    assert {row["model"] for row in summary["models"]} >= {"T4", "V100", "A100", "T4G"}


def test_list_allocations_reads_the_ledger(gpu_db: Database) -> None:
    assert service(gpu_db).list_allocations("p1") == []


def test_only_the_cluster_module_imports_kubernetes() -> None:
    import ast
    from pathlib import Path

    folder = Path(__file__).resolve().parents[3] / "services" / "gpu"
    offenders = []
    for path in folder.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(n == "kubernetes" or n.startswith("kubernetes.") for n in names):
                offenders.append(path.name)
    assert set(offenders) <= {"cluster.py"}, offenders


def test_place_template_reads_the_pod_template() -> None:
    template = {
        "metadata": {"annotations": {"gpu.scs.io/cuda-version": "11.0"}},
        "spec": {
            "nodeSelector": {"nvidia.com/gpu.product": "Tesla-T4"},
            "containers": [
                {"name": "a", "resources": {"limits": {"nvidia.com/gpu": 1}}},
                {
                    "name": "b",
                    "resources": {"requests": {"nvidia.com/gpu": "2"}},
                    "env": [{"name": "CUDA_VERSION", "value": "10.2"}],
                },
            ],
        },
    }
    answer = service().place_template("p1", template)
    assert answer["limits"] == {"nvidia.com/gpu": 3}
    assert answer["model"] == "T4"
    assert answer["cuda"]["required"] == "11.0"


def test_place_template_refuses_what_the_template_states() -> None:
    cuda12 = {
        "spec": {
            "containers": [
                {
                    "resources": {"limits": {"nvidia.com/gpu": 1}},
                    "env": [{"name": "NVIDIA_REQUIRE_CUDA", "value": "cuda>=12.1"}],
                }
            ]
        }
    }
    with pytest.raises(CudaVersionUnsupported):
        service().place_template("p1", cuda12)
    arm = {
        "spec": {
            "nodeSelector": {"kubernetes.io/arch": "arm64"},
            "containers": [{"resources": {"limits": {"nvidia.com/gpu": 1}}}],
        }
    }
    with pytest.raises(GpuArchitectureUnsupported):
        service().place_template("p1", arm)
    with pytest.raises(ValidationFailed) as no_gpu:
        service().place_template("p1", {"spec": {"containers": [{"name": "web"}]}})
    assert "count" in no_gpu.value.details["fields"]
    with pytest.raises(ValidationFailed):
        service().place_template(
            "p1", {"spec": {"containers": [{"resources": {"limits": {"nvidia.com/gpu": "x"}}}]}}
        )
