"""Per-pod cost and quota items, with the Kata overhead charged apart (pure functions)."""

from pathlib import Path

import pytest

from services.workload.exceptions import InvalidManifest
from services.workload.manifests import read_documents
from services.workload.quota_usage import fill_default_requests, pod_cost, quota_items

INPUTS = Path(__file__).resolve().parents[4] / "shared" / "inputs"


def _deployment(containers: list, init: list | None = None) -> dict:
    spec: dict = {"containers": containers}
    if init:
        spec["initContainers"] = init
    return {"kind": "Deployment", "metadata": {"name": "x"}, "spec": {"template": {"spec": spec}}}


def test_requests_sum_and_limits_stand_in_for_missing_requests() -> None:
    body = _deployment(
        [
            {"name": "a", "resources": {"requests": {"cpu": "100m", "memory": "100Mi"}}},
            {"name": "b", "resources": {"limits": {"cpu": "1", "nvidia.com/gpu": "1"}}},
        ]
    )
    cost = pod_cost(body)
    assert (cost.cpu, cost.memory, cost.gpu) == (1100, 100 * 2**20, 1)


def test_the_largest_init_container_counts_when_larger() -> None:
    body = _deployment(
        [{"name": "a", "resources": {"requests": {"cpu": "100m"}}}],
        init=[{"name": "i", "resources": {"requests": {"cpu": "2"}}}],
    )
    assert pod_cost(body).cpu == 2000


def test_items_multiply_by_pods_and_keep_overhead_apart() -> None:
    docs = read_documents((INPUTS / "guestbook-all-in-one.yaml").read_text())
    frontend = [d for d in docs if d.name == "frontend" and d.kind == "Deployment"][0]

    items = quota_items(pod_cost(frontend.body), 3)

    assert items["cpu"] == {"requested": 300, "overhead": 750}
    assert items["memory"] == {"requested": 300 * 2**20, "overhead": 3 * 160 * 2**20}
    assert items["count.pods"] == {"requested": 3, "overhead": 0}
    assert "gpu" not in items


def test_a_malformed_quantity_names_its_field() -> None:
    body = _deployment([{"name": "a", "resources": {"requests": {"cpu": "lots"}}}])
    with pytest.raises(InvalidManifest) as caught:
        pod_cost(body)
    assert (
        caught.value.details["field"] == "spec.template.spec.containers[0].resources.requests.cpu"
    )


def test_metrics_cpu_in_nanocores_becomes_millicores() -> None:
    from services.workload.observe import usage_millicores

    assert usage_millicores("149994821n") == 150
    assert usage_millicores("2500u") == 3
    assert usage_millicores("250m") == 250


def test_containers_without_requests_get_the_platform_defaults() -> None:
    body = _deployment(
        [
            {"name": "bare"},
            {"name": "limited", "resources": {"limits": {"cpu": "2"}}},
        ]
    )

    filled = fill_default_requests(body)

    assert filled == [
        "spec.template.spec.containers[0].resources.requests.cpu",
        "spec.template.spec.containers[0].resources.requests.memory",
        "spec.template.spec.containers[1].resources.requests.memory",
    ]
    cost = pod_cost(body)
    assert (cost.cpu, cost.memory) == (100 + 2000, 2 * 128 * 2**20)
    assert fill_default_requests(body) == []  # idempotent
