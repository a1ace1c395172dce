"""A workload's network settings through the gateway, against the local cluster.

This module runs its own suite: auth, quota, workload, network (Services, Ingresses, the LB
pool of four addresses) and the gateway. The network service serves only namespaces carrying
this run's label. Real everything; nothing is mocked (see conftest.py).

- a Deployment gets a LoadBalancer Service: the right selector, ports and owner, an address
  from the pool, its pods as members; then ClusterIP with an Ingress; then nothing; set again,
  the Service goes with the workload (garbage collector) and the address returns;
- a Service of that name made in the network area is refused with 409 and left as it was;
- bad input answers 4xx naming the field and changes nothing in the cluster, including a host
  another project's Ingress serves (the Ingress is refused after nothing else was applied).
"""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from tests.e2e.workload.conftest import EventTap, wait_until
from tests.e2e.workload.test_create import create
from tests.interface.gateway.conftest import Client, running_suite, suite_config_of

SUITE = ["auth", "quota", "workload", "network", "gateway"]
RUN = uuid.uuid4().hex[:10]
POOL = "198.51.100.60-198.51.100.63"
POOL_ADDRESSES = {str(ipaddress.ip_address("198.51.100.60") + n) for n in range(4)}


@pytest.fixture(scope="module")
def suite_config(amqp_vhost: str, postgres_admin_url: str) -> Iterator[dict[str, Any]]:
    with suite_config_of(
        amqp_vhost,
        postgres_admin_url,
        SUITE,
        LB_POOL=POOL,
        NETWORK_NAMESPACE_SELECTOR=f"scs.io/managed=true,scs-test-run={RUN}",
    ) as config:
        yield config


@pytest.fixture(scope="module")
def client(api_client: k8s.ApiClient, suite_config: dict[str, Any]) -> Iterator[Client]:
    with running_suite(SUITE, suite_config) as client:
        yield client


@pytest.fixture(scope="module")
def networking(api_client: k8s.ApiClient) -> k8s.NetworkingV1Api:
    return k8s.NetworkingV1Api(api_client)


def _make_namespace(core: k8s.CoreV1Api, project: str) -> str:
    name = f"e2e-wl-net-{uuid.uuid4().hex[:6]}"
    labels = {
        "scs.io/project": project,
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
    return name


@pytest.fixture
def namespace(core: k8s.CoreV1Api, tenant: dict[str, Any]) -> Iterator[str]:
    name = _make_namespace(core, tenant["project"])
    yield name
    core.delete_namespace(name, propagation_policy="Background")


def web(replicas: int = 2) -> dict[str, Any]:
    container = {
        "name": "web",
        "image": "nginx",
        "ports": [{"name": "http", "containerPort": 80}, {"containerPort": 9113}],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [container]},
            },
        },
    }


def network_path(tenant: dict[str, Any]) -> str:
    return f"/api/v1/projects/{tenant['project']}/workloads/web/network"


def put(client: Client, tenant: dict, namespace: str, body: Any) -> Any:
    return client.call(
        "PUT", network_path(tenant), token=tenant["token"], json_body=body,
        params={"namespace": namespace},
    )  # fmt: skip


def read_or_none(read: Any, name: str, namespace: str) -> Any:
    try:
        return read(name, namespace)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def created_web(client: Client, tenant: dict, namespace: str, replicas: int = 2) -> None:
    reply = create(client, tenant, namespace, [web(replicas)])
    assert reply.status == 201, reply.body


LOAD_BALANCER = {
    "service": {
        "type": "LoadBalancer",
        "ports": [
            {"name": "http", "port": 80, "target_port": "http"},
            {"name": "metrics", "port": 9113, "target_port": 9113},
        ],
    }
}


def test_load_balancer_then_cluster_ip_with_ingress_then_none_then_gone_with_the_workload(
    client: Client,
    tenant: dict,
    namespace: str,
    core: k8s.CoreV1Api,
    apps: k8s.AppsV1Api,
    networking: k8s.NetworkingV1Api,
    events: EventTap,
) -> None:
    created_web(client, tenant, namespace)
    uid = apps.read_namespaced_deployment("web", namespace).metadata.uid

    reply = put(client, tenant, namespace, LOAD_BALANCER)
    assert reply.status == 200, reply.body
    service = reply.body["service"]
    address = service["load_balancer"]["address"]
    assert service["type"] == "LoadBalancer" and service["load_balancer"]["state"] == "allocated"
    assert address in POOL_ADDRESSES and service["cluster_ip"]
    assert reply.body["ingress"] is None and reply.body["unmanaged"] == []

    live = core.read_namespaced_service("web", namespace)
    assert live.spec.selector == {"scs.io/workload": "web"}
    assert [(p.name, p.port, p.target_port, p.protocol) for p in live.spec.ports] == [
        ("http", 80, "http", "TCP"),
        ("metrics", 9113, 9113, "TCP"),
    ]
    assert live.metadata.labels["scs.io/workload"] == "web"
    assert [(o.kind, o.name, o.uid) for o in live.metadata.owner_references] == [
        ("Deployment", "web", uid)
    ]
    assert live.status.load_balancer.ingress[0].ip == address

    # The selector reaches the workload's pods: both become members of the load balancer.
    def members() -> list[str]:
        got = client.call(
            "GET", network_path(tenant), token=tenant["token"], params={"namespace": namespace}
        )
        assert got.status == 200, got.body
        return list(got.body["service"]["load_balancer"]["members"])

    wait_until("two load-balancer members", lambda: len(members()) == 2, timeout=60)
    updated = events.wait_for(
        lambda e: e["type"] == "workload.updated" and e["data"].get("changed") == ["network"]
    )
    assert updated["resource"]["name"] == "web" and updated["project"] == tenant["project"]
    assert updated["data"]["service"]["type"] == "LoadBalancer"
    events.wait_for(
        lambda e: e["type"] == "lb.address_allocated" and e["resource"]["namespace"] == namespace
    )

    cluster_ip = service["cluster_ip"]
    reply = put(
        client, tenant, namespace,
        {"service": {"type": "ClusterIP", "ports": [{"name": "http", "port": 80,
                                                     "target_port": "http"}]},
         "ingress": {"host": f"shop-{RUN}.example.com", "path": "/shop"}},
    )  # fmt: skip
    assert reply.status == 200, reply.body
    assert reply.body["service"]["type"] == "ClusterIP"
    assert reply.body["service"]["cluster_ip"] == cluster_ip
    assert "load_balancer" not in reply.body["service"]
    assert reply.body["ingress"]["host"] == f"shop-{RUN}.example.com"
    assert reply.body["ingress"]["port"] == 80 and reply.body["ingress"]["path"] == "/shop"
    live = core.read_namespaced_service("web", namespace)
    assert live.spec.type == "ClusterIP" and [p.port for p in live.spec.ports] == [80]
    ingress = networking.read_namespaced_ingress("web", namespace)
    backend = ingress.spec.rules[0].http.paths[0].backend.service
    assert (backend.name, backend.port.number) == ("web", 80)
    events.wait_for(
        lambda e: e["type"] == "lb.address_released" and e["data"]["address"] == address
    )

    reply = put(client, tenant, namespace, {"service": None})
    assert reply.status == 200, reply.body
    assert reply.body["service"] is None and reply.body["ingress"] is None
    assert read_or_none(core.read_namespaced_service, "web", namespace) is None
    assert read_or_none(networking.read_namespaced_ingress, "web", namespace) is None

    # Set once more, then delete the workload: the garbage collector takes the Service along.
    reply = put(client, tenant, namespace, LOAD_BALANCER)
    assert reply.status == 200, reply.body
    address = reply.body["service"]["load_balancer"]["address"]
    deleted = client.call(
        "DELETE",
        f"/api/v1/projects/{tenant['project']}/workloads/web",
        token=tenant["token"],
        params={"namespace": namespace},
    )
    assert deleted.status == 200, deleted.body
    wait_until(
        "the Service gone with its workload",
        lambda: read_or_none(core.read_namespaced_service, "web", namespace) is None,
        timeout=60,
    )
    events.wait_for(
        lambda e: e["type"] == "lb.address_released" and e["data"]["address"] == address,
        timeout=60,
    )


def test_a_service_of_that_name_made_in_the_network_area_is_not_overwritten(
    client: Client, tenant: dict, namespace: str, core: k8s.CoreV1Api
) -> None:
    created_web(client, tenant, namespace, replicas=1)
    made = client.call(
        "POST",
        f"/api/v1/projects/{tenant['project']}/services",
        token=tenant["token"],
        json_body={
            "namespace": namespace,
            "name": "web",
            "type": "ClusterIP",
            "ports": [{"port": 8080, "target_port": 80}],
            "selector": {"app": "web"},
        },
    )
    assert made.status == 201, made.body
    before = core.read_namespaced_service("web", namespace)

    reply = put(client, tenant, namespace, LOAD_BALANCER)
    assert reply.status == 409, reply.body
    assert reply.code == "network_object_exists"
    assert reply.body["details"]["field"] == "service"

    after = core.read_namespaced_service("web", namespace)
    assert after.metadata.resource_version == before.metadata.resource_version
    assert after.spec.type == "ClusterIP" and after.spec.selector == {"app": "web"}

    shown = client.call(
        "GET", network_path(tenant), token=tenant["token"], params={"namespace": namespace}
    )
    assert shown.status == 200, shown.body
    assert shown.body["service"] is None and shown.body["unmanaged"] == ["Service"]


BAD = [
    ({"service": {"type": "LoadBalancer", "ports": [{"port": 70000}]}}, 400,
     "service.ports[0].port"),
    ({"service": {"ports": [{"name": "a", "port": 80, "target_port": "http"},
                            {"name": "a", "port": 81, "target_port": 9113}]}}, 400,
     "service.ports[1].name"),
    ({"service": {"ports": [{"port": 80, "target_port": "http"}]},
      "ingress": {"host": "not a host"}}, 400, "ingress.host"),
    ({"service": None, "ingress": {"host": "shop.example.com"}}, 400, "ingress"),
    ({"service": {"ports": [{"port": 80, "target_port": 8080}]}}, 422,
     "service.ports[0].target_port"),
    ({"service": {"ports": [{"port": 80, "target_port": "admin"}]}}, 422,
     "service.ports[0].target_port"),
    ({"service": {"ports": [{"port": 80, "target_port": "http", "protocol": "UDP"}]}}, 422,
     "service.ports[0].target_port"),
]  # fmt: skip


def test_bad_input_names_the_field_and_changes_nothing(
    client: Client,
    tenant: dict,
    namespace: str,
    core: k8s.CoreV1Api,
    networking: k8s.NetworkingV1Api,
) -> None:
    created_web(client, tenant, namespace, replicas=1)
    for body, status, field in BAD:
        reply = put(client, tenant, namespace, body)
        assert reply.status == status, (body, reply.body)
        details = reply.body["details"]
        assert details.get("field") == field or field in details.get("fields", {}), reply.body

    # A host another project's Ingress serves: refused before anything else was applied.
    admin, suffix = tenant["admin"], uuid.uuid4().hex[:6]
    department = client.call(
        "POST", "/api/v1/departments", token=admin, json_body={"name": f"other-{suffix}"}
    )
    assert department.status == 201, department.body
    other = client.call(
        "POST",
        "/api/v1/projects",
        token=admin,
        json_body={"name": f"other-{suffix}", "department_id": department.body["id"]},
    )
    assert other.status == 201, other.body
    elsewhere = _make_namespace(core, other.body["id"])
    try:
        host = f"taken-{RUN}.example.com"
        made = client.call(
            "POST",
            f"/api/v1/projects/{other.body['id']}/services",
            token=admin,
            json_body={
                "namespace": elsewhere,
                "kind": "Ingress",
                "name": "theirs",
                "rules": [{"host": host, "service": "theirs", "port": 80}],
            },
        )
        assert made.status == 201, made.body
        reply = put(
            client, tenant, namespace,
            {"service": {"type": "LoadBalancer", "ports": [{"port": 80, "target_port": "http"}]},
             "ingress": {"host": host}},
        )  # fmt: skip
        assert reply.status == 409, reply.body
        assert reply.code == "ingress_host_taken"
        assert reply.body["details"]["field"] == "ingress.host"
    finally:
        core.delete_namespace(elsewhere, propagation_policy="Background")

    assert read_or_none(core.read_namespaced_service, "web", namespace) is None
    assert read_or_none(networking.read_namespaced_ingress, "web", namespace) is None

    missing = client.call(
        "PUT",
        f"/api/v1/projects/{tenant['project']}/workloads/nope/network",
        token=tenant["token"],
        json_body=LOAD_BALANCER,
        params={"namespace": namespace},
    )
    assert missing.status == 404 and missing.code == "workload_not_found"
