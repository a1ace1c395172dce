"""A workload's network settings: the schema, the checks, the manifests and the order of steps.

Real: the schema, the manifest building, the workload database (SQLite, migrated) and its
outbox. Faked: the cluster (`FakeCluster` answers the workload object and its namespace) and
the network service (`FakeNetwork` keeps Services and Ingresses in a dict, answers like its
RPC contract and records each call; it can be told to refuse one kind). The end-to-end test
(tests/e2e/workload/test_network_settings.py) runs the same code against the real ones.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from services.workload import network_settings
from services.workload.deps import Deps
from services.workload.exceptions import (
    InvalidOperation,
    NetworkNameTaken,
    OwnerUnavailable,
    TargetPortNotDeclared,
)
from services.workload.models import OutboxEvent, Workload
from services.workload.schemas import load_network_settings
from shared.errors import RemoteScsError, ValidationFailed

NS, PROJECT = "vision-dev", "p1"


def deployment(ports: list[dict[str, Any]] | None = None, label: bool = True) -> dict[str, Any]:
    labels = {"app": "web", **({"scs.io/workload": "web"} if label else {})}
    container = {"name": "web", "image": "nginx"}
    if ports is not None:
        container["ports"] = ports
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": NS, "uid": "uid-web"},
        "spec": {
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}}
        },
    }


HTTP = [{"name": "http", "containerPort": 8080}, {"containerPort": 53, "protocol": "UDP"}]


class FakeCluster:
    def __init__(self, workload: dict[str, Any]) -> None:
        self.workload = workload

    def get(self, kind: str, namespace: str | None, name: str) -> dict[str, Any]:
        if kind == "Namespace":
            labels = {"scs.io/project": PROJECT, "scs.io/tenant": "true"}
            return {"metadata": {"name": name, "labels": labels}}
        return copy.deepcopy(self.workload)


class FakeNetwork:
    """The network service's RPC contract over a dict; `refuse[kind]` raises on apply."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], dict[str, Any]] = {}
        self.calls: list[tuple[str, str]] = []
        self.refuse: dict[str, RemoteScsError] = {}

    def health(self) -> dict[str, str]:
        return {"service": "network", "status": "ok"}

    def get_object(self, project_id: str, namespace: str, kind: str, name: str) -> Any:
        obj = self.objects.get((kind, name))
        if obj is None:
            raise RemoteScsError("absent", {}, "network_object_not_found", 404)
        spec, meta = obj["spec"], obj["metadata"]
        summary = {"kind": kind, "name": name, "uid": f"uid-{kind}", "labels": meta["labels"]}
        if kind == "Service":
            summary |= {
                "type": spec["type"],
                "cluster_ip": "10.96.0.7",
                "ports": spec["ports"],
                "selector": spec.get("selector") or {},
            }
            if spec["type"] == "LoadBalancer":
                summary["load_balancer"] = {"state": "allocated", "address": "198.51.100.9"}
        return {**summary, "manifest": copy.deepcopy(obj)}

    def apply_manifest(self, project_id: str, namespace: str, manifest: Any, actor: str) -> Any:
        kind, name = manifest["kind"], manifest["metadata"]["name"]
        self.calls.append(("apply", kind))
        if kind in self.refuse:
            raise self.refuse[kind]
        self.objects[(kind, name)] = copy.deepcopy(manifest)
        return {"kind": kind, "namespace": namespace, "name": name, "uid": f"uid-{kind}"}

    def delete_object(self, project_id: str, namespace: str, kind: str, name: str, actor: str):
        self.calls.append(("delete", kind))
        deleted = self.objects.pop((kind, name), None) is not None
        return {"kind": kind, "namespace": namespace, "name": name, "deleted": deleted}


@pytest.fixture
def world(workload_db: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    with workload_db.transaction() as session:
        session.add(
            Workload(
                id="w1",
                project_id=PROJECT,
                namespace=NS,
                kind="Deployment",
                name="web",
                uid="uid-web",
                replicas=1,
                stopped=False,
                revision=1,
                pod_cost={},
                storage={},
                quota_grants=[],
                created_by="t",
                created_at=now,
                updated_at=now,
            )
        )
    network = FakeNetwork()
    deps = Deps(
        db=workload_db,
        cluster=FakeCluster(deployment(HTTP)),  # type: ignore[arg-type]
        quota=None,
        owners={"network": network},
    )
    return {"deps": deps, "network": network, "db": workload_db}


def put(world: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    loaded = load_network_settings(settings)
    return network_settings.set_settings(world["deps"], PROJECT, NS, "web", loaded, "u1")


def events(world: dict[str, Any]) -> list[dict[str, Any]]:
    with world["db"].transaction() as session:
        return [row.payload for row in session.scalars(select(OutboxEvent))]


LB = {"service": {"type": "LoadBalancer", "ports": [{"name": "http", "port": 80,
                                                       "target_port": "http"}]}}  # fmt: skip


# -- the schema ---------------------------------------------------------------------------------


def ports(*entries: dict[str, Any], **service: Any) -> dict[str, Any]:
    return {"service": {"ports": list(entries), **service}}


def ingress(**fields: Any) -> dict[str, Any]:
    return {**ports({"port": 80}), "ingress": fields}


TWO = ({"port": 80, "name": "a"}, {"port": 443, "name": "b"})


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "service"),
        (ports({"port": 80}, type="ExternalName"), "service.type"),
        (ports({"port": 0}), "service.ports[0].port"),
        (ports({"port": 65536}), "service.ports[0].port"),
        (ports({"port": True}), "service.ports[0].port"),
        (ports({"port": "80"}), "service.ports[0].port"),
        (ports({"port": 80, "target_port": 0}), "service.ports[0].target_port"),
        (ports({"port": 80, "target_port": "8080"}), "service.ports[0].target_port"),
        (ports({"port": 80, "target_port": "a-long-port-name"}), "service.ports[0].target_port"),
        (ports({"port": 80, "name": "Web"}), "service.ports[0].name"),
        (ports({"port": 80, "protocol": "ICMP"}), "service.ports[0].protocol"),
        (ports({"port": 80, "node_port": 30080}), "service.ports[0].node_port"),
        (ports(), "service.ports"),
        (ports({"port": 80}, type="None"), "service.ports"),
        (ports({"port": 80, "name": "a"}, {"port": 81}), "service.ports[1].name"),
        (ports({"port": 80, "name": "a"}, {"port": 81, "name": "a"}), "service.ports[1].name"),
        (ports({"port": 80, "name": "a"}, {"port": 80, "name": "b"}), "service.ports[1].port"),
        ({"service": None, "ingress": {"host": "shop.example.com"}}, "ingress"),
        ({"service": {"type": "None"}, "ingress": {"host": "shop.example.com"}}, "ingress"),
        (ingress(), "ingress.host"),
        (ingress(host="*.example.com"), "ingress.host"),
        (ingress(host="Shop.example.com"), "ingress.host"),
        (ingress(host="bad_host.example"), "ingress.host"),
        (ingress(host="192.0.2.1"), "ingress.host"),
        (ingress(host="a." * 127 + "com"), "ingress.host"),
        (ingress(host="a.example", path="shop"), "ingress.path"),
        (ingress(host="a.example", path_type="ImplementationSpecific"), "ingress.path_type"),
        (ingress(host="a.example", port=81), "ingress.port"),
        ({**ports({"port": 53, "protocol": "UDP"}), "ingress": {"host": "a.b"}}, "ingress.port"),
        ({**ports(*TWO), "ingress": {"host": "a.example"}}, "ingress.port"),
        (ingress(host="a.example", tls=True), "ingress.tls"),
        ({**ports({"port": 80}), "selector": {"app": "x"}}, "selector"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(body: Any, field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        load_network_settings(body)
    assert field in caught.value.details["fields"], caught.value.details
    assert caught.value.http_status == 400


def test_defaults_fill_target_port_and_the_ingress_port() -> None:
    loaded = load_network_settings(
        {"service": {"ports": [{"port": 80}]}, "ingress": {"host": "shop.example.com"}}
    )
    assert loaded["service"] == {
        "type": "ClusterIP",
        "ports": [{"name": None, "port": 80, "target_port": 80, "protocol": "TCP"}],
    }
    assert loaded["ingress"] == {
        "host": "shop.example.com",
        "path": "/",
        "path_type": "Prefix",
        "port": 80,
    }
    assert load_network_settings({"service": {"type": "None"}}) == {
        "service": None,
        "ingress": None,
    }


# -- checks against the workload -------------------------------------------------------------


def test_target_ports_must_be_declared_by_number_or_name_and_protocol() -> None:
    declared = network_settings.declared_ports(deployment(HTTP))
    ok = [
        {"port": 80, "target_port": "http", "protocol": "TCP"},
        {"port": 8080, "target_port": 8080, "protocol": "TCP"},
        {"port": 53, "target_port": 53, "protocol": "UDP"},
    ]
    network_settings.check_target_ports(ok, declared)

    for i, bad in enumerate(
        [
            {"port": 80, "target_port": 9090, "protocol": "TCP"},
            {"port": 80, "target_port": "metrics", "protocol": "TCP"},
            {"port": 53, "target_port": 53, "protocol": "TCP"},
        ]
    ):
        with pytest.raises(TargetPortNotDeclared) as caught:
            network_settings.check_target_ports([ok[0], bad], declared)
        assert caught.value.details["field"] == "service.ports[1].target_port", i
        assert caught.value.http_status == 422
        assert "8080/TCP (http)" in caught.value.message


def test_a_workload_without_declared_ports_says_so() -> None:
    with pytest.raises(TargetPortNotDeclared) as caught:
        network_settings.check_target_ports(
            [{"port": 80, "target_port": 80, "protocol": "TCP"}],
            network_settings.declared_ports(deployment(None)),
        )
    assert "declare no ports" in caught.value.message


def test_pods_without_the_workload_label_are_refused() -> None:
    with pytest.raises(InvalidOperation) as caught:
        network_settings.check_selector(deployment(HTTP, label=False))
    assert caught.value.details["field"] == "service"


# -- manifests ----------------------------------------------------------------------------------


def test_the_service_selects_the_workloads_pods_and_is_owned_by_it() -> None:
    service = network_settings.service_manifest(
        deployment(HTTP),
        {
            "type": "NodePort",
            "ports": [{"name": None, "port": 80, "target_port": "http", "protocol": "TCP"}],
        },  # fmt: skip
    )
    assert service["apiVersion"] == "v1" and service["kind"] == "Service"
    assert service["metadata"]["name"] == "web" and service["metadata"]["namespace"] == NS
    assert service["metadata"]["labels"]["scs.io/workload"] == "web"
    assert service["metadata"]["ownerReferences"] == [
        {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "uid-web"}
    ]
    assert service["spec"] == {
        "type": "NodePort",
        "selector": {"scs.io/workload": "web"},
        "ports": [{"port": 80, "targetPort": "http", "protocol": "TCP"}],
    }


def test_the_ingress_sends_its_host_and_path_to_the_services_port() -> None:
    ingress = network_settings.ingress_manifest(
        deployment(HTTP),
        {"host": "shop.example.com", "path": "/shop", "path_type": "Exact", "port": 80},
    )
    assert ingress["apiVersion"] == "networking.k8s.io/v1"
    assert ingress["spec"] == {
        "rules": [
            {
                "host": "shop.example.com",
                "http": {
                    "paths": [
                        {
                            "path": "/shop",
                            "pathType": "Exact",
                            "backend": {"service": {"name": "web", "port": {"number": 80}}},
                        }
                    ]
                },
            }
        ]
    }
    assert ingress["metadata"]["labels"]["scs.io/workload"] == "web"


def test_steps_keep_every_intermediate_state_valid() -> None:
    own = {"labels": {"scs.io/workload": "web"}}
    svc, ing = {"kind": "Service"}, {"kind": "Ingress"}
    none: dict[str, Any] = {"Service": None, "Ingress": None}
    both = {"Service": own, "Ingress": own}
    plan = network_settings.plan
    assert plan(none, {"Service": svc, "Ingress": ing}, "web") == [
        ("Ingress", ing),
        ("Service", svc),
    ]
    assert plan(both, {"Service": svc, "Ingress": None}, "web") == [
        ("Service", svc),
        ("Ingress", None),
    ]
    assert plan(both, none, "web") == [("Ingress", None), ("Service", None)]
    assert plan(none, none, "web") == []
    foreign = {"Service": {"labels": {}}, "Ingress": {"labels": {"scs.io/workload": "other"}}}
    assert plan(foreign, none, "web") == []  # never deletes what is not the workload's


# -- the whole change, with the network service faked ------------------------------------------


def test_set_change_and_remove_with_one_event_per_change(world: dict[str, Any]) -> None:
    network = world["network"]

    answer = put(world, LB)
    assert answer["service"]["type"] == "LoadBalancer"
    assert answer["service"]["cluster_ip"] == "10.96.0.7"
    assert answer["service"]["load_balancer"]["address"] == "198.51.100.9"
    assert answer["service"]["ports"] == [
        {"name": "http", "port": 80, "target_port": "http", "protocol": "TCP"}
    ]
    assert answer["ingress"] is None and answer["unmanaged"] == []

    put(world, LB)  # the same settings again: nothing new to announce
    assert len(events(world)) == 1

    answer = put(
        world,
        {"service": {"ports": [{"port": 80, "target_port": 8080}]},
         "ingress": {"host": "shop.example.com"}},
    )  # fmt: skip
    assert answer["service"]["type"] == "ClusterIP" and "load_balancer" not in answer["service"]
    assert answer["ingress"]["host"] == "shop.example.com" and answer["ingress"]["port"] == 80

    answer = put(world, {"service": None})
    assert answer["service"] is None and answer["ingress"] is None
    assert network.objects == {}
    assert network.calls[-2:] == [("delete", "Ingress"), ("delete", "Service")]

    updates = events(world)
    assert [e["type"] for e in updates] == ["workload.updated"] * 3
    assert all(e["data"]["changed"] == ["network"] for e in updates)
    assert updates[0]["data"]["service"]["type"] == "LoadBalancer"
    assert updates[1]["data"]["ingress"]["host"] == "shop.example.com"
    assert updates[2]["data"]["service"] is None
    assert network_settings.settings_of(world["deps"], PROJECT, NS, "web")["service"] is None


def test_a_foreign_service_of_that_name_is_refused_and_left_alone(world: dict[str, Any]) -> None:
    network = world["network"]
    foreign = {"kind": "Service", "metadata": {"name": "web", "labels": {}},
               "spec": {"type": "ClusterIP", "ports": [{"port": 9}]}}  # fmt: skip
    network.objects[("Service", "web")] = copy.deepcopy(foreign)

    with pytest.raises(NetworkNameTaken) as caught:
        put(world, LB)
    assert caught.value.http_status == 409
    assert caught.value.code == "network_object_exists"
    assert caught.value.details["field"] == "service"
    assert [c for c in network.calls if c[0] != "get"] == []
    assert network.objects[("Service", "web")] == foreign

    # Removing settings the workload does not have touches nothing either.
    answer = put(world, {"service": None})
    assert answer["service"] is None and answer["unmanaged"] == ["Service"]
    assert network.objects[("Service", "web")] == foreign
    assert events(world) == []


def test_a_refused_service_takes_the_new_ingress_back(world: dict[str, Any]) -> None:
    network = world["network"]
    network.refuse["Service"] = RemoteScsError(
        "refused", {"fields": {"spec.ports": ["x"]}}, "cluster_refused", 400
    )
    with pytest.raises(RemoteScsError) as caught:
        put(world, {**LB, "ingress": {"host": "shop.example.com"}})
    assert caught.value.details["field"] == "service"
    assert network.calls == [("apply", "Ingress"), ("apply", "Service"), ("delete", "Ingress")]
    assert network.objects == {} and events(world) == []


def test_a_refused_host_names_the_settings_field_and_keeps_the_old_ingress(
    world: dict[str, Any],
) -> None:
    network = world["network"]
    put(world, {**LB, "ingress": {"host": "old.example.com"}})
    before = copy.deepcopy(network.objects)
    network.refuse["Ingress"] = RemoteScsError(
        "taken", {"field": "spec.rules[0].host", "host": "new.example.com"},
        "ingress_host_taken", 409,
    )  # fmt: skip

    with pytest.raises(RemoteScsError) as caught:
        put(world, {"service": {"ports": [{"port": 80, "target_port": 8080}]},
                    "ingress": {"host": "new.example.com"}})  # fmt: skip
    assert caught.value.http_status == 409
    assert caught.value.details["field"] == "ingress.host"
    assert caught.value.details["object_field"] == "spec.rules[0].host"
    assert network.objects == before
    assert len(events(world)) == 1


def test_an_undeclared_target_changes_nothing(world: dict[str, Any]) -> None:
    with pytest.raises(TargetPortNotDeclared):
        put(world, {"service": {"ports": [{"port": 80}]}})
    assert world["network"].calls == [] and events(world) == []


def test_without_the_network_service_nothing_is_read_or_changed(world: dict[str, Any]) -> None:
    world["deps"].owners.pop("network")
    with pytest.raises(OwnerUnavailable) as caught:
        put(world, LB)
    assert caught.value.details["owner"] == "network" and caught.value.http_status == 503
