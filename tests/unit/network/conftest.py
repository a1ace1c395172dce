"""Fixtures of the network unit tests.

Real: the database (a migrated SQLite file per test), the embedded SDN driver, the outbox rows.
Faked: the Kubernetes API. `FakeCluster` replaces the functions of services/network/cluster.py
with an in-memory store of namespaces, Services, EndpointSlices and NetworkPolicies, and
records what the controller wrote (status patches, Events), so the logic is tested without a
cluster. The end-to-end tests (tests/e2e/network) run the same code against the real one.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterator
from typing import Any

import pytest

from services.network import cluster, namespaces
from services.network.drivers.embedded import EmbeddedSdnDriver
from services.network.exceptions import NetworkObjectExists, NetworkObjectNotFound
from services.network.loadbalancer import LbContext
from shared import db

_uids = itertools.count(1)


class FakeCluster:
    def __init__(self) -> None:
        self.namespaces: dict[str, dict[str, Any]] = {}
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.slices: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.status_patches: list[tuple[str, str, list[str]]] = []
        self.kube_events: list[tuple[str, str]] = []

    def add_namespace(self, name: str, project: str | None, **labels: str) -> None:
        all_labels = {"scs.io/managed": "true", **labels}
        if project:
            all_labels["scs.io/project"] = project
        self.namespaces[name] = {
            "metadata": {"name": name, "uid": f"ns-{next(_uids)}", "labels": all_labels}
        }

    def service(self, namespace: str, name: str, kind: str = "LoadBalancer") -> dict[str, Any]:
        obj = {
            "kind": "Service",
            "apiVersion": "v1",
            "metadata": {
                "namespace": namespace,
                "name": name,
                "uid": f"svc-{next(_uids)}",
                "resourceVersion": "1",
            },
            "spec": {"type": kind, "ports": [{"port": 80}]},
            "status": {},
        }
        self.objects[("Service", namespace, name)] = obj
        return copy.deepcopy(obj)

    # -- the functions of services/network/cluster.py -----------------------------------------

    def get_namespace(self, name: str) -> dict[str, Any] | None:
        return copy.deepcopy(self.namespaces.get(name))

    def list_namespaces(self, label_selector: str = "") -> list[dict[str, Any]]:
        return [
            copy.deepcopy(ns)
            for ns in self.namespaces.values()
            if namespaces.selector_matches(label_selector, ns["metadata"]["labels"])
        ]

    def read_object(self, kind: str, namespace: str, name: str) -> dict[str, Any]:
        if (kind, namespace, name) not in self.objects:
            raise NetworkObjectNotFound(f"{kind} {namespace}/{name} not found", {})
        return copy.deepcopy(self.objects[(kind, namespace, name)])

    def list_objects(self, kind: str, namespace: str) -> list[dict[str, Any]]:
        return [
            copy.deepcopy(o)
            for (k, ns, _), o in self.objects.items()
            if k == kind and ns == namespace
        ]

    def create_object(self, manifest: dict[str, Any]) -> dict[str, Any]:
        meta = manifest["metadata"]
        key = (manifest["kind"], meta["namespace"], meta["name"])
        if key in self.objects:
            raise NetworkObjectExists("exists", {})
        obj = copy.deepcopy(manifest)
        obj["metadata"].update(uid=f"obj-{next(_uids)}", resourceVersion="1")
        self.objects[key] = obj
        return copy.deepcopy(obj)

    def replace_object(self, manifest: dict[str, Any]) -> dict[str, Any]:
        meta = manifest["metadata"]
        key = (manifest["kind"], meta["namespace"], meta["name"])
        current = self.read_object(*key)
        obj = copy.deepcopy(manifest)
        obj["metadata"]["uid"] = current["metadata"]["uid"]
        self.objects[key] = obj
        return copy.deepcopy(obj)

    def delete_object(self, kind: str, namespace: str, name: str) -> None:
        self.read_object(kind, namespace, name)
        del self.objects[(kind, namespace, name)]

    def read_network_policy(self, namespace: str, name: str) -> dict[str, Any] | None:
        return copy.deepcopy(self.objects.get(("NetworkPolicy", namespace, name)))

    def set_load_balancer_ingress(self, namespace: str, name: str, addresses: list[str]) -> None:
        self.status_patches.append((namespace, name, addresses))
        obj = self.objects.get(("Service", namespace, name))
        if obj is not None:
            obj["status"] = {"loadBalancer": {"ingress": [{"ip": a} for a in addresses]}}

    def record_kube_event(
        self, obj: dict[str, Any], reason: str, message: str, event_type: str = "Normal"
    ) -> None:
        self.kube_events.append((obj["metadata"]["name"], reason))

    def list_endpoint_slices(self, namespace: str, service: str) -> list[dict[str, Any]]:
        return copy.deepcopy(self.slices.get((namespace, service), []))


@pytest.fixture
def fake_cluster(monkeypatch: pytest.MonkeyPatch) -> FakeCluster:
    fake = FakeCluster()
    for name in dir(fake):
        if not name.startswith("_") and hasattr(cluster, name) and callable(getattr(fake, name)):
            monkeypatch.setattr(cluster, name, getattr(fake, name))
    monkeypatch.setattr(namespaces, "_cache", {})
    return fake


@pytest.fixture
def network_db(sqlite_url: str) -> Iterator[db.Database]:
    db.migrate("network", sqlite_url)
    yield db.Database(sqlite_url)
    engine = db._engines.pop(sqlite_url, None)
    if engine is not None:
        engine.dispose()


@pytest.fixture
def lb_ctx(network_db: db.Database) -> LbContext:
    pool = [f"198.51.100.{n}" for n in range(10, 14)]
    return LbContext(
        db=network_db, driver=EmbeddedSdnDriver(), selector="scs.io/managed=true", pool=pool
    )
