"""The shared input manifests, as written, through the gateway, with their owners running.

This module runs its own suite: auth, quota, workload, network (Services, Ingresses, the LB
pool), storage (claims, the provisioner), config (ConfigMaps, Secrets) and the gateway, so the
companions of each stream reach the service that owns them. The network and storage services
serve only namespaces carrying this run's label, so concurrent suites on the same cluster do
not act on each other's objects. Real everything; nothing is mocked.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client as k8s

from tests.e2e.workload.conftest import INPUTS, wait_until
from tests.e2e.workload.test_create import create
from tests.interface.gateway.conftest import Client, running_suite, suite_config_of

SUITE = ["auth", "quota", "gpu", "workload", "network", "storage", "config", "gateway"]
RUN = uuid.uuid4().hex[:10]
POOL = "198.51.100.40-198.51.100.47"


@pytest.fixture(scope="module")
def suite_config(
    amqp_vhost: str, postgres_admin_url: str, tmp_path_factory: Any
) -> Iterator[dict[str, Any]]:
    selector = f"scs.io/managed=true,scs-test-run={RUN}"
    with suite_config_of(
        amqp_vhost,
        postgres_admin_url,
        SUITE,
        LB_POOL=POOL,
        NETWORK_NAMESPACE_SELECTOR=selector,
        STORAGE_NAMESPACE_SELECTOR=selector,
        STORAGE_VOLUME_DIR=str(tmp_path_factory.mktemp("volumes")),
        max_workers=30,
    ) as config:
        yield config


@pytest.fixture(scope="module")
def client(api_client: k8s.ApiClient, suite_config: dict[str, Any]) -> Iterator[Client]:
    with running_suite(SUITE, suite_config) as client:
        yield client


@pytest.fixture
def namespace(core: k8s.CoreV1Api, tenant: dict[str, Any]) -> Iterator[str]:
    name = f"e2e-wl-acc-{uuid.uuid4().hex[:6]}"
    labels = {
        "scs.io/project": tenant["project"],
        "scs.io/managed": "true",
        "scs.io/tenant": "true",
        "scs-test-run": RUN,
    }
    core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=name, labels=labels)))
    wait_until(
        "the default ServiceAccount",
        lambda: (
            core.list_namespaced_service_account(
                name, field_selector="metadata.name=default"
            ).items
        ),
    )
    yield name
    core.delete_namespace(name, propagation_policy="Background")


def _create(client: Client, tenant: dict, namespace: str, file: str) -> Any:
    return create(client, tenant, namespace, Path(INPUTS / file).read_text())


def _owners(reply: Any) -> dict[str, str]:
    return {f"{o['kind']}/{o['name']}": o["owner"] for o in reply.body["objects"]}


def _running(core: k8s.CoreV1Api, namespace: str) -> int:
    pods = core.list_namespaced_pod(namespace).items
    return sum(1 for p in pods if p.status.phase == "Running")


def test_guestbook_as_written(
    client: Client, tenant: dict, namespace: str, core: k8s.CoreV1Api
) -> None:
    reply = _create(client, tenant, namespace, "guestbook-all-in-one.yaml")

    assert reply.status == 201, reply.body
    owners = _owners(reply)
    assert owners["Service/frontend"] == "network"
    assert owners["Deployment/frontend"] == "workload"
    assert core.read_namespaced_service("frontend", namespace).spec.type == "NodePort"
    wait_until("six guestbook pods Running", lambda: _running(core, namespace) == 6, timeout=90)


def test_web_statefulset_with_its_claims_bound(
    client: Client, tenant: dict, namespace: str, core: k8s.CoreV1Api
) -> None:
    reply = _create(client, tenant, namespace, "web-statefulset.yaml")

    assert reply.status == 201, reply.body
    assert _owners(reply)["Service/nginx"] == "network"

    def bound() -> bool:
        claims = core.list_namespaced_persistent_volume_claim(namespace).items
        return len(claims) == 2 and all(c.status.phase == "Bound" for c in claims)

    wait_until("both claims of web Bound", bound, timeout=120)
    wait_until("both web pods Running", lambda: _running(core, namespace) == 2, timeout=90)


def test_wordpress_with_its_load_balancer_and_claim(
    client: Client, tenant: dict, namespace: str, core: k8s.CoreV1Api
) -> None:
    reply = _create(client, tenant, namespace, "wordpress-lb-pvc.yaml")

    assert reply.status == 201, reply.body
    owners = _owners(reply)
    assert owners["Service/wordpress"] == "network"
    assert owners["PersistentVolumeClaim/wp-pv-claim"] == "storage"

    def has_address() -> bool:
        ingress = core.read_namespaced_service("wordpress", namespace).status.load_balancer
        return bool(ingress and ingress.ingress)

    wait_until("the LoadBalancer address", has_address, timeout=60)
    wait_until(
        "the claim Bound",
        lambda: (
            core.read_namespaced_persistent_volume_claim("wp-pv-claim", namespace).status.phase
            == "Bound"
        ),
        timeout=120,
    )


def test_gpu_deployment_lands_on_a_gpu_node(
    client: Client, tenant: dict, namespace: str, core: k8s.CoreV1Api
) -> None:
    reply = _create(client, tenant, namespace, "vllm-gpu-deployment.yaml")

    assert reply.status == 201, reply.body
    assert reply.body["workloads"][0]["pod_cost"]["gpu"] == 1

    def scheduled() -> str | None:
        pods = core.list_namespaced_pod(namespace).items
        return pods[0].spec.node_name if pods and pods[0].spec.node_name else None

    node = core.read_node(wait_until("the GPU pod scheduled", scheduled, timeout=60))
    assert int(node.status.allocatable["nvidia.com/gpu"]) >= 1
    # the gpu service pinned a product the platform's driver supports, on amd64
    product = node.metadata.labels["nvidia.com/gpu.product"]
    assert product.startswith(("Tesla-T4", "Tesla-V100")), product
    assert node.metadata.labels["kubernetes.io/arch"] == "amd64"


def test_php_apache_with_its_service_and_hpa_as_written(
    client: Client, tenant: dict, namespace: str, api_client: k8s.ApiClient, core: k8s.CoreV1Api
) -> None:
    # A project's cpu/memory limits mirrored as a ResourceQuota on requests: php-apache names
    # no memory request, so its pod runs only with the platform's default request.
    hard = {"requests.cpu": "8", "requests.memory": "8Gi"}
    quota = {"metadata": {"name": "scs-project-quota"}, "spec": {"hard": hard}}
    core.create_namespaced_resource_quota(namespace, quota)
    reply = _create(client, tenant, namespace, "php-apache-hpa.yaml")

    assert reply.status == 201, reply.body
    wait_until(
        "a php-apache pod Running",
        lambda: [
            p for p in core.list_namespaced_pod(namespace).items if p.status.phase == "Running"
        ],
        timeout=90,
    )
    owners = _owners(reply)
    assert owners["Service/php-apache"] == "network"
    assert owners["HorizontalPodAutoscaler/php-apache"] == "workload"
    record = reply.body["workloads"][0]
    assert (record["autoscaling_max"], record["quota_pods"]) == (10, 10)
    hpa = k8s.AutoscalingV2Api(api_client).read_namespaced_horizontal_pod_autoscaler(
        "php-apache", namespace
    )
    assert hpa.metadata.labels["scs.io/managed"] == "true"
