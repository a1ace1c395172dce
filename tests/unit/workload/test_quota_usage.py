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


def _c(name: str, cpu: str, memory: str = "0", sidecar: bool = False) -> dict:
    container = {"name": name, "resources": {"requests": {"cpu": cpu, "memory": memory}}}
    if sidecar:
        container["restartPolicy"] = "Always"
    return container


def test_a_native_sidecar_is_charged_beside_the_app_containers() -> None:
    # The new-user report: app 100m/100Mi, sidecar 500m/300Mi. Kubernetes (and the mirrored
    # ResourceQuota) counts 600m/400Mi, not the largest init container's 500m/300Mi.
    body = _deployment(
        [_c("app", "100m", "100Mi")], init=[_c("proxy", "500m", "300Mi", sidecar=True)]
    )
    cost = pod_cost(body)
    assert (cost.cpu, cost.memory) == (600, 400 * 2**20)
    assert (cost.overhead_cpu, cost.overhead_memory) == (250, 160 * 2**20)


@pytest.mark.parametrize(
    "init, app_cpu, cpu",
    [
        # Kubernetes' rule, per resource: max(sum(app) + sum(sidecars),
        #   for each init container i in order: request(i) + sum(sidecars declared before i))
        ([_c("s1", "1", sidecar=True)], "1", 2000),
        ([_c(n, v, sidecar=True) for n, v in (("s1", "1"), ("s2", "2"), ("s3", "3"))], "1", 7000),
        # a regular init container runs beside the sidecars declared before it ...
        ([_c("s", "100m", sidecar=True), _c("i", "500m")], "200m", 600),
        # ... but not beside those declared after it
        ([_c("i", "500m"), _c("s", "100m", sidecar=True)], "200m", 500),
        # regular init containers run one at a time: the largest term counts
        ([_c("i1", "5"), _c("s1", "1", sidecar=True), _c("i2", "4")], "1", 5000),
        ([_c("s1", "1", sidecar=True), _c("s2", "2", sidecar=True), _c("i", "5")], "1", 8000),
        # no sidecar: the larger of the app containers' sum and the largest init container
        ([_c("i1", "2"), _c("i2", "1")], "100m", 2000),
        ([_c("i1", "50m")], "100m", 100),
    ],
)
def test_the_effective_request_follows_kubernetes(init: list, app_cpu: str, cpu: int) -> None:
    assert pod_cost(_deployment([_c("app", app_cpu)], init=init)).cpu == cpu


def test_each_resource_takes_its_own_maximum() -> None:
    # cpu peaks during the init container, memory while the app runs with its sidecar
    body = _deployment(
        [_c("app", "100m", "1Gi")],
        init=[_c("s", "100m", "256Mi", sidecar=True), _c("migrate", "2", "64Mi")],
    )
    cost = pod_cost(body)
    assert (cost.cpu, cost.memory) == (2100, 1280 * 2**20)


def test_a_sidecar_limit_stands_in_for_its_request_and_gpus_follow_the_rule() -> None:
    sidecar = {
        "name": "s",
        "restartPolicy": "Always",
        "resources": {"limits": {"cpu": "300m", "memory": "64Mi", "nvidia.com/gpu": "1"}},
    }
    body = _deployment(
        [{"name": "a", "resources": {"limits": {"cpu": "1", "nvidia.com/gpu": "1"}}}],
        init=[sidecar],
    )
    cost = pod_cost(body)
    assert (cost.cpu, cost.memory, cost.gpu) == (1300, 64 * 2**20, 2)


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
