"""ConfigService entrypoints through nameko's worker_factory.

Real: the database (a migrated SQLite file, holding the outbox) and the request context.
Faked: the Kubernetes API (`kube`, a MagicMock) and the outbox relay. Log lines are captured
with pytest's caplog at DEBUG, to show no Secret value reaches a log line or an event.
"""

import base64
import json
import logging

import pytest
from sqlalchemy import select

from services.config import cluster as config_cluster
from services.config.exceptions import (
    ClusterRejected,
    ConfigNotFound,
    InvalidConfig,
    NamespaceNotInProject,
    NotOwnedKind,
)
from services.config.models import OutboxEvent
from tests.unit.config.conftest import project_namespace

VALUE = "hunter2-Very-Secret"
B64 = base64.b64encode(VALUE.encode()).decode()


def outbox(database) -> list[dict]:
    with database.transaction() as session:
        return [r.payload for r in session.scalars(select(OutboxEvent).order_by(OutboxEvent.seq))]


def test_secret_value_reaches_the_cluster_but_no_log_event_or_answer(
    service, kube, config_db, caplog
):
    caplog.set_level(logging.DEBUG)
    answer = service.create_config("p1", "vision-dev", "Secret", "db", {"password": VALUE})

    body, secrets = kube.create.call_args.args
    assert body["data"] == {"password": B64}
    assert {VALUE, B64} <= set(secrets)
    assert answer["data"] == {"password": "******"}
    [event] = outbox(config_db)
    assert event["type"] == "config.created"
    assert event["data"] == {"kind": "Secret", "name": "db", "keys": ["password"]}
    for text in (json.dumps(event), json.dumps(answer), caplog.text):
        assert VALUE not in text and B64 not in text
    assert "config.created kind=Secret" in caplog.text


def test_namespace_of_another_project_is_refused(service, kube):
    kube.get_namespace.return_value = project_namespace("ledger-prod", "p2")
    with pytest.raises(NamespaceNotInProject):
        service.create_config("p1", "ledger-prod", "ConfigMap", "c", {"a": "b"})
    kube.create.assert_not_called()


def test_update_with_a_masked_value_keeps_the_stored_one(service, kube):
    kube.read.return_value = {
        "kind": "Secret",
        "type": "Opaque",
        "data": {"password": B64},
        "metadata": {"name": "db", "namespace": "vision-dev", "resourceVersion": "5"},
    }
    service.update_config(
        "p1", "vision-dev", "Secret", "db", {"password": "******", "user": "app"}
    )
    body, _ = kube.replace.call_args.args
    assert body["data"] == {"password": B64, "user": base64.b64encode(b"app").decode()}
    assert body["metadata"]["resourceVersion"] == "5"


def test_edit_yaml_must_name_the_same_object(service, kube):
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other}\ndata: {a: b}\n"
    with pytest.raises(InvalidConfig) as caught:
        service.edit_config_yaml("p1", "vision-dev", "ConfigMap", "app", text)
    assert list(caught.value.details["fields"]) == ["yaml"]


def test_apply_manifest_creates_then_replaces_and_answers_the_contract(service, kube, config_db):
    manifest = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "app"},
        "data": {"mode": "fast"},
    }
    kube.read.side_effect = ConfigNotFound("missing", {})
    assert service.apply_manifest("p1", "vision-dev", manifest) == {
        "kind": "ConfigMap",
        "namespace": "vision-dev",
        "name": "app",
        "uid": "uid-1",
    }
    kube.read.side_effect = None
    kube.read.return_value = manifest | {
        "metadata": {"name": "app", "namespace": "vision-dev", "resourceVersion": "1"}
    }
    assert service.apply_manifest("p1", "vision-dev", manifest)["name"] == "app"
    assert [e["type"] for e in outbox(config_db)] == ["config.created", "config.updated"]


def test_apply_manifest_refuses_kinds_of_other_services(service, kube):
    with pytest.raises(NotOwnedKind) as caught:
        service.apply_manifest(
            "p1",
            "vision-dev",
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}},
        )
    assert caught.value.http_status == 422 and caught.value.details["owner"] == "network"
    kube.create.assert_not_called()


def test_delete_object_of_something_gone_answers_not_deleted(service, kube):
    kube.read.side_effect = ConfigNotFound("missing", {})
    answer = service.delete_object("p1", "vision-dev", "Secret", "db")
    assert answer["deleted"] is False


def test_cluster_errors_redact_the_values_written():
    class FakeApiException(config_cluster.ApiException):
        pass

    def refuse():
        exc = FakeApiException(status=422, reason="Unprocessable Entity")
        exc.body = json.dumps({"message": f'Secret "db" is invalid: data: "{VALUE}"'})
        raise exc

    with pytest.raises(ClusterRejected) as caught:
        config_cluster._translate(refuse, {VALUE})
    assert VALUE not in str(caught.value.to_dict())
    assert caught.value.__cause__ is None  # the API's body (which holds the value) is dropped
