"""Fixtures of the storage unit tests.

Real: the database (a migrated SQLite file per test), the sparse-file driver (in tmp_path),
the outbox rows. Faked, and only these:
- the Kubernetes API: `FakeCluster` replaces the functions of services/storage/cluster.py with
  an in-memory store of namespaces, claims, PVs and StorageClasses; it binds a claim to its PV
  when the test says so (the cluster's PV controller does that for real in tests/e2e/storage);
- the quota service: `FakeQuota` keeps reservations per key with one limit per resource,
  answers a known key with its reservation as it is (expired included), and raises errors with
  the codes `quota_exceeded` / `reservation_not_active` as the real service does across RPC.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterator
from typing import Any

import pytest

from services.storage import cluster, namespaces
from services.storage.drivers.embedded import SparseFileDriver
from services.storage.exceptions import StorageObjectExists, StorageObjectNotFound
from services.storage.provisioner import StorageContext
from shared import db
from shared.errors import Unprocessable

_uids = itertools.count(1)


class FakeQuotaExceeded(Unprocessable):
    code = "quota_exceeded"


class FakeReservationNotActive(Unprocessable):
    code = "reservation_not_active"


class FakeQuota:
    def __init__(self) -> None:
        self.limits: dict[str, int] = {}
        self.reservations: dict[str, dict[str, Any]] = {}

    def used(self, resource: str) -> int:
        return sum(
            r["items"].get(resource, {}).get("requested", 0)
            for r in self.reservations.values()
            if r["status"] in ("reserved", "committed")
        )

    def reserve(self, project_id: str, key: str, items: dict, actor: str) -> dict:
        if key in self.reservations:
            return self.reservations[key]
        for resource, item in items.items():
            limit = self.limits.get(resource)
            if limit is not None and self.used(resource) + item["requested"] > limit:
                raise FakeQuotaExceeded(f"quota exceeded: {resource}", {resource: {}})
        self.reservations[key] = {"items": items, "status": "reserved", "project": project_id}
        return self.reservations[key]

    def commit(self, key: str, actor: str) -> None:
        if self.reservations[key]["status"] not in ("reserved", "committed"):
            raise FakeReservationNotActive(f"reservation {key} is not active", {})
        self.reservations[key]["status"] = "committed"

    def expire(self, key: str) -> None:
        """What the quota service's expiry timer does to a reservation past its TTL."""
        self.reservations[key]["status"] = "expired"

    def release(self, key: str, actor: str) -> None:
        if key in self.reservations:
            self.reservations[key]["status"] = "released"


class FakeCluster:
    def __init__(self) -> None:
        self.namespaces: dict[str, dict[str, Any]] = {}
        self.claims: dict[tuple[str, str], dict[str, Any]] = {}
        self.volumes: dict[str, dict[str, Any]] = {}
        self.classes: dict[str, dict[str, Any]] = {}
        self.kube_events: list[tuple[str, str]] = []

    def add_namespace(self, name: str, project: str) -> None:
        labels = {"scs.io/managed": "true", "scs.io/project": project}
        self.namespaces[name] = {"metadata": {"name": name, "labels": labels}}

    def bind(self, namespace: str, name: str) -> dict[str, Any]:
        """What the cluster's PV controller does once the PV with our claimRef exists."""
        pvc = self.claims[(namespace, name)]
        pv = next(
            v
            for v in self.volumes.values()
            if v["spec"]["claimRef"]["uid"] == pvc["metadata"]["uid"]
        )
        pvc["spec"]["volumeName"] = pv["metadata"]["name"]
        pvc["status"] = {"phase": "Bound", "capacity": dict(pv["spec"]["capacity"])}
        pv["status"] = {"phase": "Bound"}
        return copy.deepcopy(pvc)

    def remove_claim(self, namespace: str, name: str) -> dict[str, Any]:
        """Claim deleted: the PV controller marks its PV Released."""
        pvc = self.claims.pop((namespace, name))
        for pv in self.volumes.values():
            if pv["spec"]["claimRef"]["uid"] == pvc["metadata"]["uid"]:
                pv["status"] = {"phase": "Released"}
        return pvc

    # -- the functions of services/storage/cluster.py -----------------------------------------

    def get_namespace(self, name: str) -> dict[str, Any] | None:
        return copy.deepcopy(self.namespaces.get(name))

    def list_namespaces(self, label_selector: str) -> list[dict[str, Any]]:
        return [
            copy.deepcopy(ns)
            for ns in self.namespaces.values()
            if namespaces.selector_matches(label_selector, ns["metadata"]["labels"])
        ]

    def read_claim(self, namespace: str, name: str) -> dict[str, Any]:
        if (namespace, name) not in self.claims:
            raise StorageObjectNotFound("not found", {})
        return copy.deepcopy(self.claims[(namespace, name)])

    def list_claims(self, namespace: str) -> list[dict[str, Any]]:
        return [copy.deepcopy(c) for (ns, _), c in self.claims.items() if ns == namespace]

    def create_claim(self, body: dict[str, Any]) -> dict[str, Any]:
        key = (body["metadata"]["namespace"], body["metadata"]["name"])
        if key in self.claims:
            raise StorageObjectExists("exists", {})
        claim = copy.deepcopy(body)
        claim["metadata"].update(uid=f"uid-{next(_uids)}", resourceVersion="1")
        claim["status"] = {"phase": "Pending"}
        self.claims[key] = claim
        return copy.deepcopy(claim)

    def replace_claim(self, body: dict[str, Any]) -> dict[str, Any]:
        key = (body["metadata"]["namespace"], body["metadata"]["name"])
        current = self.claims[key]
        current["spec"]["resources"] = copy.deepcopy(body["spec"]["resources"])
        current["metadata"]["labels"] = body["metadata"].get("labels")
        return copy.deepcopy(current)

    def patch_claim(self, namespace: str, name: str, patch: dict[str, Any]) -> dict[str, Any]:
        self.claims[(namespace, name)]["spec"]["resources"] = patch["spec"]["resources"]
        return copy.deepcopy(self.claims[(namespace, name)])

    def patch_claim_status(self, namespace: str, name: str, patch: dict[str, Any]) -> None:
        self.claims[(namespace, name)]["status"].update(patch["status"])

    def delete_claim(self, namespace: str, name: str) -> None:
        self.read_claim(namespace, name)
        self.remove_claim(namespace, name)

    def create_volume(self, body: dict[str, Any]) -> dict[str, Any]:
        if body["metadata"]["name"] in self.volumes:
            raise StorageObjectExists("exists", {})
        self.volumes[body["metadata"]["name"]] = {
            **copy.deepcopy(body),
            "status": {"phase": "Available"},
        }
        return copy.deepcopy(body)

    def read_volume(self, name: str) -> dict[str, Any]:
        if name not in self.volumes:
            raise StorageObjectNotFound("not found", {})
        return copy.deepcopy(self.volumes[name])

    def list_volumes(self) -> list[dict[str, Any]]:
        return [copy.deepcopy(v) for v in self.volumes.values()]

    def patch_volume(self, name: str, patch: dict[str, Any]) -> None:
        self.volumes[name]["spec"].update(patch["spec"])

    def delete_volume(self, name: str) -> None:
        self.read_volume(name)
        del self.volumes[name]

    def read_storage_class(self, name: str) -> dict[str, Any]:
        if name not in self.classes:
            raise StorageObjectNotFound("not found", {})
        return copy.deepcopy(self.classes[name])

    def create_storage_class(self, body: dict[str, Any]) -> dict[str, Any]:
        self.classes[body["metadata"]["name"]] = copy.deepcopy(body)
        return body

    def patch_storage_class(self, name: str, patch: dict[str, Any]) -> None:
        self.classes[name]["metadata"]["annotations"].update(patch["metadata"]["annotations"])
        self.classes[name]["allowVolumeExpansion"] = patch["allowVolumeExpansion"]

    def record_kube_event(self, obj: dict[str, Any], reason: str, message: str, kind: str) -> None:
        self.kube_events.append((obj["metadata"]["name"], reason))


@pytest.fixture
def fake_cluster(monkeypatch: pytest.MonkeyPatch) -> FakeCluster:
    fake = FakeCluster()
    for name in dir(fake):
        if not name.startswith("_") and hasattr(cluster, name) and callable(getattr(fake, name)):
            monkeypatch.setattr(cluster, name, getattr(fake, name))
    monkeypatch.setattr(namespaces, "_cache", {})
    fake.add_namespace("vision-dev", "p1")
    fake.add_namespace("ledger-dev", "p2")
    return fake


@pytest.fixture
def storage_db(sqlite_url: str) -> Iterator[db.Database]:
    db.migrate("storage", sqlite_url)
    yield db.Database(sqlite_url)
    engine = db._engines.pop(sqlite_url, None)
    if engine is not None:
        engine.dispose()


@pytest.fixture
def fake_quota() -> FakeQuota:
    return FakeQuota()


@pytest.fixture
def storage_ctx(storage_db, fake_quota, tmp_path) -> StorageContext:
    return StorageContext(
        db=storage_db,
        driver=SparseFileDriver(tmp_path / "volumes"),
        quota=fake_quota,
        selector="scs.io/managed=true",
    )
