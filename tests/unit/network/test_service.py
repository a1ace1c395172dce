"""NetworkService entrypoints through nameko's worker_factory.

Real: the database (migrated SQLite), the embedded driver and the request context. Faked: the
cluster (FakeCluster, conftest.py) and the outbox relay (a MagicMock from worker_factory; it
only publishes in the background).
"""

import pytest
from nameko.testing.services import worker_factory
from sqlalchemy import select

from services.network.drivers.embedded import EmbeddedSdnDriver
from services.network.exceptions import InvalidManifest, NamespaceNotInProject
from services.network.models import OutboxEvent
from services.network.service import NetworkService
from shared.context import Context

POOL = ["198.51.100.10"]


@pytest.fixture
def service(network_db, fake_cluster):
    fake_cluster.add_namespace("vision-dev", "p1")
    fake_cluster.add_namespace("ledger-dev", "p2")
    lb = {"driver": EmbeddedSdnDriver(), "pool": POOL, "selector": "scs.io/managed=true"}
    return worker_factory(
        NetworkService, db=network_db, lb=lb, context=Context({"actor": "u1", "request_id": "r1"})
    )


def test_create_list_update_delete_a_load_balancer(service, fake_cluster) -> None:
    form = {
        "name": "web",
        "type": "LoadBalancer",
        "ports": [{"port": 80}],
        "selector": {"app": "web"},
    }
    created = service.create_object("p1", "vision-dev", form)
    assert created["load_balancer"]["address"] == "198.51.100.10"
    assert created["load_balancer"]["state"] == "allocated"

    second = service.create_object("p1", "vision-dev", {**form, "name": "api"})
    assert second["load_balancer"] == {
        "state": "pending",
        "address": None,
        "reason": "pool_exhausted",
    }

    listed = service.list_objects("p1")["items"]
    assert sorted(i["name"] for i in listed) == ["api", "web"]

    updated = service.update_object("p1", "vision-dev", "web", {**form, "ports": [{"port": 8080}]})
    assert updated["ports"][0]["port"] == 8080
    assert updated["load_balancer"]["address"] == "198.51.100.10"

    assert service.delete_object("p1", "vision-dev", "Service", "web")["deleted"] is True
    assert service.delete_object("p1", "vision-dev", "Service", "web")["deleted"] is False
    service.retry_pending()
    assert service.lb_status("vision-dev", "api")["address"] == "198.51.100.10"


def test_another_projects_namespace_is_refused(service) -> None:
    with pytest.raises(NamespaceNotInProject):
        service.create_object("p1", "ledger-dev", {"name": "x", "ports": [{"port": 80}]})
    with pytest.raises(NamespaceNotInProject):
        service.list_objects("p1", "ledger-dev")


def test_apply_manifest_creates_then_replaces_and_refuses_foreign_kinds(service) -> None:
    manifest = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "db"},
        "spec": {"ports": [{"port": 5432}]},
    }
    first = service.apply_manifest("p1", "vision-dev", manifest, "u1")
    again = service.apply_manifest("p1", "vision-dev", manifest, "u1")
    assert set(first) == {"kind", "namespace", "name", "uid"}
    assert first["uid"] == again["uid"]
    with pytest.raises(InvalidManifest):
        service.apply_manifest("p1", "vision-dev", {**manifest, "kind": "ConfigMap"}, "u1")


def test_yaml_edit_must_keep_kind_and_name(service) -> None:
    service.create_object("p1", "vision-dev", {"name": "web", "ports": [{"port": 80}]})
    text = (
        "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  type: NodePort\n"
        "  ports: [{port: 80}]\n"
    )
    assert service.replace_yaml("p1", "vision-dev", "Service", "web", text)["type"] == "NodePort"
    with pytest.raises(InvalidManifest):
        service.replace_yaml("p1", "vision-dev", "Service", "other", text)


def test_namespace_created_event_installs_the_policy(service, fake_cluster) -> None:
    event = {
        "type": "namespace.created",
        "project": "p1",
        "data": {"name": "vision-dev"},
        "resource": {"kind": "Namespace", "name": "vision-dev"},
    }
    service.handle_namespace_created(event)
    service.handle_namespace_created(event)  # re-announced: no second policy, answered again
    assert ("NetworkPolicy", "vision-dev", "scs-project-isolation") in fake_cluster.objects
    with service.db.transaction() as session:
        types = [r.event_type for r in session.scalars(select(OutboxEvent))]
    assert types == ["namespace.setup_done", "namespace.setup_done"]
