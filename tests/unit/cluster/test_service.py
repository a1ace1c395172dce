"""ClusterService entrypoints through nameko's worker_factory.

Real: the database (a migrated SQLite file), the request context and the config. Faked: the
Kubernetes API (`kube`, a MagicMock answering recorded dictionaries) and the outbox relay.
"""

import pytest
from sqlalchemy import select

from services.cluster.exceptions import (
    ClusterScopedRefused,
    InvalidInput,
    NamespaceNotEmpty,
    NamespaceNotInProject,
    ObjectExists,
    ObjectNotFound,
    ProtectedNodeMetadata,
)
from services.cluster.models import OutboxEvent
from tests.unit.cluster.conftest import namespace, node

CRD = {
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": "example.com",
        "scope": "Namespaced",
        "names": {"kind": "Widget", "plural": "widgets"},
        "versions": [{"name": "v1", "served": True}],
    },
}
CLUSTER_CRD = {
    "metadata": {"name": "gadgets.example.com"},
    "spec": {
        "group": "example.com",
        "scope": "Cluster",
        "names": {"kind": "Gadget", "plural": "gadgets"},
        "versions": [{"name": "v1", "served": True}],
    },
}


def events(database) -> list[dict]:
    with database.transaction() as session:
        return [
            row.payload for row in session.scalars(select(OutboxEvent).order_by(OutboxEvent.seq))
        ]


def test_create_namespace_labels_it_for_the_project_and_announces_it(service, kube, cluster_db):
    kube.create_namespace.return_value = namespace("vision-dev", "p1")
    answer = service.create_namespace("p1", "vision-dev", "u1")

    kube.create_namespace.assert_called_once_with(
        "vision-dev",
        {"scs.io/project": "p1", "scs.io/managed": "true", "scs.io/tenant": "true"},
    )
    assert answer["status"] == "pending" and answer["ready"] is False
    assert answer["setup"] == {"required": ["quota", "network"], "done": []}
    [created] = events(cluster_db)
    assert created["type"] == "namespace.created" and created["project"] == "p1"
    assert created["data"]["name"] == "vision-dev"


def test_create_is_idempotent_for_the_same_project_and_refused_for_another(
    service, kube, cluster_db
):
    kube.create_namespace.side_effect = ObjectExists("exists", {})
    kube.get_namespace.return_value = namespace("vision-dev", "p1")
    service.create_namespace("p1", "vision-dev", "u1")
    service.create_namespace("p1", "vision-dev", "u1")
    assert [e["type"] for e in events(cluster_db)] == ["namespace.created"]

    kube.get_namespace.return_value = namespace("vision-dev", "p2")
    with pytest.raises(ObjectExists):
        service.create_namespace("p1", "vision-dev", "u1")


@pytest.mark.parametrize("name", ["Bad_Name", "kube-system", "default", "x" * 64])
def test_bad_namespace_names_are_refused_before_the_cluster_is_asked(service, kube, name):
    with pytest.raises(InvalidInput) as caught:
        service.create_namespace("p1", name, "u1")
    assert "name" in caught.value.details["fields"]
    kube.create_namespace.assert_not_called()


def test_ready_once_every_required_step_answered_and_only_once(service, kube, cluster_db):
    kube.create_namespace.return_value = namespace("vision-dev", "p1")
    service.create_namespace("p1", "vision-dev", "u1")

    def done(step, event_id):
        service.handle_namespace_setup_done(
            {"id": event_id, "data": {"namespace": "vision-dev", "step": step}}
        )

    done("quota", "e1")
    done("quota", "e1")  # redelivered
    kube.get_namespace.return_value = namespace("vision-dev", "p1")
    assert service.get_namespace("p1", "vision-dev")["status"] == "pending"
    done("workload", "e2")  # not required by this configuration
    done("network", "e3")
    done("network", "e3")
    answer = service.get_namespace("p1", "vision-dev")
    assert answer["ready"] is True
    assert answer["setup"]["done"] == ["network", "quota", "workload"]
    assert [e["type"] for e in events(cluster_db)] == ["namespace.created", "namespace.ready"]


def test_setup_done_with_bad_data_is_ignored(service, cluster_db):
    service.handle_namespace_setup_done({"id": "x", "data": {"namespace": "n", "step": "dns"}})
    service.handle_namespace_setup_done(
        {"id": "y", "data": {"namespace": "nope", "step": "quota"}}
    )
    assert events(cluster_db) == []


def test_delete_refused_while_workloads_remain_unless_forced(service, kube, cluster_db):
    kube.get_namespace.return_value = namespace("vision-dev", "p1")
    kube.count_workloads.return_value = {"Deployment": 1, "Pod": 2, "Job": 0}
    with pytest.raises(NamespaceNotEmpty) as caught:
        service.delete_namespace("p1", "vision-dev", "u1")
    assert caught.value.details["workloads"] == {"Deployment": 1, "Pod": 2}
    kube.delete_namespace.assert_not_called()

    answer = service.delete_namespace("p1", "vision-dev", "u1", True)
    kube.delete_namespace.assert_called_once_with("vision-dev")
    assert answer["deleted"] is True
    [deleted] = events(cluster_db)
    assert deleted["type"] == "namespace.deleted" and deleted["data"]["forced"] is True


def test_another_projects_namespace_is_neither_shown_nor_deleted(service, kube):
    kube.get_namespace.return_value = namespace("ledger-prod", "p2")
    with pytest.raises(NamespaceNotInProject):
        service.get_namespace("p1", "ledger-prod")
    with pytest.raises(NamespaceNotInProject):
        service.delete_namespace("p1", "ledger-prod", "u1", True)
    kube.get_namespace.side_effect = ObjectNotFound("gone", {})
    with pytest.raises(NamespaceNotInProject):
        service.get_namespace("p1", "missing")
    kube.delete_namespace.assert_not_called()


def test_protected_label_removal_never_reaches_the_cluster(service, kube):
    kube.get_node.return_value = node("n1", {"kubernetes.io/arch": "amd64"})
    with pytest.raises(ProtectedNodeMetadata):
        service.edit_node_labels("n1", {}, ["kubernetes.io/arch"])
    kube.patch_node.assert_not_called()


def test_cordon_records_an_event(service, kube, cluster_db):
    kube.patch_node.return_value = node("n1", unschedulable=True)
    answer = service.cordon_node("n1", True)
    kube.patch_node.assert_called_once_with("n1", {"spec": {"unschedulable": True}})
    assert answer["unschedulable"] is True
    assert [e["type"] for e in events(cluster_db)] == ["node.cordoned"]


def test_custom_resources_go_only_into_the_projects_namespaces(service, kube):
    kube.list_crds.return_value = [CRD, CLUSTER_CRD]
    kube.get_namespace.return_value = namespace("ledger-prod", "p2")
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}}
    with pytest.raises(NamespaceNotInProject):
        service.import_custom_resource("p1", "ledger-prod", widget, None, "u1", False)

    kube.get_namespace.return_value = namespace("vision-dev", "p1")
    kube.create_custom_object.return_value = widget | {
        "metadata": {"name": "w1", "namespace": "vision-dev", "uid": "u"}
    }
    answer = service.import_custom_resource("p1", "vision-dev", widget, None, "u1", False)
    kube.create_custom_object.assert_called_once()
    assert kube.create_custom_object.call_args.args[:4] == (
        "example.com",
        "v1",
        "widgets",
        "vision-dev",
    )
    assert answer["namespace"] == "vision-dev"


def test_cluster_scoped_custom_resources_are_for_cloud_admins_only(service, kube):
    kube.list_crds.return_value = [CRD, CLUSTER_CRD]
    gadget = "apiVersion: example.com/v1\nkind: Gadget\nmetadata:\n  name: g1\n"
    with pytest.raises(ClusterScopedRefused):
        service.import_custom_resource("p1", None, None, gadget, "u1", False)
    kube.create_custom_object.return_value = {
        "apiVersion": "example.com/v1",
        "kind": "Gadget",
        "metadata": {"name": "g1"},
    }
    service.import_custom_resource("p1", None, None, gadget, "u1", True)
    assert kube.create_custom_object.call_args.args[3] is None


def test_unknown_custom_resource_type_is_not_found(service, kube):
    kube.list_crds.return_value = [CRD]
    with pytest.raises(ObjectNotFound):
        service.import_custom_resource(
            "p1",
            "vision-dev",
            {"apiVersion": "example.com/v2", "kind": "Widget", "metadata": {"name": "w"}},
            None,
            "u1",
            False,
        )


def test_api_errors_become_the_services_errors_with_the_original_chained():
    from kubernetes.client.exceptions import ApiException

    from services.cluster.cluster import translate
    from services.cluster.exceptions import ClusterRejected, ClusterUnavailable

    def failing(status):
        @translate
        def call():
            raise ApiException(status=status, reason="r")

        return call

    for status, expected in (
        (404, ObjectNotFound),
        (409, ObjectExists),
        (422, ClusterRejected),
        (500, ClusterUnavailable),
        (429, ClusterUnavailable),
    ):
        with pytest.raises(expected) as caught:
            failing(status)()
        assert isinstance(caught.value.__cause__, ApiException)


def test_pending_namespaces_are_announced_again_a_bounded_number_of_times(
    service, kube, cluster_db
):
    from datetime import UTC, datetime, timedelta

    from services.cluster import namespaces as ns

    for name in ("slow", "done"):
        kube.create_namespace.return_value = namespace(name, "p1", uid=f"uid-{name}")
        service.create_namespace("p1", name, "u1")
    for step in ("quota", "network"):
        service.handle_namespace_setup_done(
            {"id": step, "data": {"namespace": "done", "step": step}}
        )

    with cluster_db.transaction() as session:
        assert ns.reannounce_stale(session, 60, 3) == []  # not stale yet
    later = datetime.now(UTC) + timedelta(minutes=5)
    for _ in range(4):
        with cluster_db.transaction() as session:
            ns.reannounce_stale(session, 60, 3, now=later)
        later += timedelta(minutes=5)

    created = [e for e in events(cluster_db) if e["type"] == "namespace.created"]
    assert [e["data"]["name"] for e in created].count("slow") == 3
    assert [e["data"]["name"] for e in created].count("done") == 1
    assert len({e["id"] for e in created}) == len(created)
