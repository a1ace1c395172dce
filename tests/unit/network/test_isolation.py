"""Isolation policies (isolation.py) against a fake Kubernetes API (FakeCluster, conftest.py).

Real: the database and the outbox. Faked: the cluster.
"""

import pytest
from sqlalchemy import select

from services.network import isolation
from services.network.exceptions import NamespaceNotInProject, NetworkObjectNotFound
from services.network.models import OutboxEvent


def test_policy_admits_only_the_projects_namespaces() -> None:
    policy = isolation.policy_manifest("vision-dev", "p1")
    assert policy["spec"] == {
        "podSelector": {},
        "policyTypes": ["Ingress"],
        "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"scs.io/project": "p1"}}}]}],
    }


def test_ensure_is_idempotent_and_announces_setup_done_once(network_db, fake_cluster) -> None:
    fake_cluster.add_namespace("vision-dev", "p1")
    first = isolation.ensure_isolation(network_db, "vision-dev", "p1")
    second = isolation.ensure_isolation(network_db, "vision-dev")
    assert first["created"] is True and second["created"] is False
    assert ("NetworkPolicy", "vision-dev", isolation.POLICY_NAME) in fake_cluster.objects
    with network_db.transaction() as session:
        events = [r.payload for r in session.scalars(select(OutboxEvent))]
    assert [e["type"] for e in events] == ["namespace.setup_done"]
    assert events[0]["data"] == {"namespace": "vision-dev", "step": "network"}


def test_a_tampered_policy_is_put_back(network_db, fake_cluster) -> None:
    fake_cluster.add_namespace("vision-dev", "p1")
    isolation.ensure_isolation(network_db, "vision-dev")
    key = ("NetworkPolicy", "vision-dev", isolation.POLICY_NAME)
    fake_cluster.objects[key]["spec"]["ingress"] = [{}]  # allow everything
    fake_cluster.objects[key]["metadata"]["resourceVersion"] = "2"
    isolation.ensure_isolation(network_db, "vision-dev")
    assert (
        fake_cluster.objects[key]["spec"] == isolation.policy_manifest("vision-dev", "p1")["spec"]
    )


def test_refusals_name_the_namespace(network_db, fake_cluster) -> None:
    fake_cluster.add_namespace("other", "p2")
    fake_cluster.add_namespace("unowned", None)
    with pytest.raises(NamespaceNotInProject):
        isolation.ensure_isolation(network_db, "other", "p1")
    with pytest.raises(NamespaceNotInProject):
        isolation.ensure_isolation(network_db, "unowned")
    with pytest.raises(NetworkObjectNotFound):
        isolation.ensure_isolation(network_db, "missing")


def test_ensure_all_covers_every_project_namespace(network_db, fake_cluster) -> None:
    fake_cluster.add_namespace("a", "p1")
    fake_cluster.add_namespace("b", "p2")
    fake_cluster.add_namespace("system-ish", None)
    assert isolation.ensure_all(network_db, "scs.io/managed=true") == 2
    assert isolation.ensure_all(network_db, "scs.io/managed=true") == 0
