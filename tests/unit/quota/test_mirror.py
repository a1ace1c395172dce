"""The ResourceQuota mirror of the quota service (namespace setup step "quota").

Real: the database (a migrated SQLite file) and the request context. Faked: the Kubernetes
API (`kube`, a MagicMock recording the ResourceQuota writes) and the outbox relay.
"""

from unittest.mock import MagicMock

import pytest
from nameko.testing.services import worker_factory
from sqlalchemy import select

from services.quota import mirror
from services.quota.exceptions import ClusterRejected, ClusterUnavailable
from services.quota.models import OutboxEvent
from services.quota.service import QuotaService
from shared.context import Context


@pytest.fixture
def kube():
    return MagicMock(name="kube")


@pytest.fixture
def service(quota_db, kube, monkeypatch):
    monkeypatch.setattr("services.quota.service.eventlet.sleep", lambda seconds: None)
    return worker_factory(QuotaService, db=quota_db, kube=kube, context=Context({"actor": "u1"}))


def setup_events(quota_db) -> list[dict]:
    with quota_db.transaction() as session:
        rows = session.scalars(
            select(OutboxEvent).where(OutboxEvent.event_type == "namespace.setup_done")
        )
        return [row.payload for row in rows]


def test_hard_values_map_every_mirrored_resource():
    hard = mirror.hard_of(
        {
            "cpu": 1500,
            "memory": 2**30,
            "gpu": 2,
            "storage.high-performance": 10 * 2**30,
            "count.pods": 20,
            "count.deployments": 5,
            "count.widgets": 1,
        }
    )
    assert hard == {
        "requests.cpu": "1500m",
        "requests.memory": str(2**30),
        "requests.nvidia.com/gpu": "2",
        "high-performance.storageclass.storage.k8s.io/requests.storage": str(10 * 2**30),
        "count/pods": "20",
        "count/deployments.apps": "5",
    }
    assert mirror.hard_of({"cpu": 2000})["requests.cpu"] == "2"


def test_a_new_namespace_gets_the_limits_then_answers_setup_done(service, kube, quota_db):
    service.set_limits("p1", {"cpu": 1000, "count.pods": 3})
    event = {"id": "e1", "project": "p1", "data": {"name": "vision-dev"}}
    service.handle_namespace_created(event)
    service.handle_namespace_created(event)  # redelivered: written again, answered again

    kube.put_resource_quota.assert_called_with(
        "vision-dev", {"requests.cpu": "1", "count/pods": "3"}
    )
    answers = setup_events(quota_db)
    assert [a["data"] for a in answers] == [{"namespace": "vision-dev", "step": "quota"}] * 2


def test_transient_cluster_errors_are_retried_and_permanent_ones_give_no_answer(
    service, kube, quota_db
):
    kube.put_resource_quota.side_effect = [ClusterUnavailable("down"), None]
    service.handle_namespace_created({"id": "e1", "project": "p1", "data": {"name": "a"}})
    assert kube.put_resource_quota.call_count == 2
    assert len(setup_events(quota_db)) == 1

    kube.put_resource_quota.side_effect = ClusterRejected("namespace gone")
    service.handle_namespace_created({"id": "e2", "project": "p1", "data": {"name": "b"}})
    assert len(setup_events(quota_db)) == 1


def test_changed_limits_are_mirrored_into_every_namespace_of_the_project(service, kube):
    kube.project_namespaces.return_value = ["a", "b"]
    service.set_limits("p1", {"memory": 2**30})
    service.handle_limits_set({"id": "e", "project": "p1", "data": {}})
    kube.project_namespaces.assert_called_once_with("p1")
    assert [c.args for c in kube.put_resource_quota.call_args_list] == [
        ("a", {"requests.memory": str(2**30)}),
        ("b", {"requests.memory": str(2**30)}),
    ]
