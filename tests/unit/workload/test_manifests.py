"""Reading manifests: multi-document YAML, JSON-flavoured YAML, kinds and API versions.

Nothing is faked: these are pure functions over the real shared input manifests and small
hand-written ones.
"""

from pathlib import Path

import pytest

from services.workload.exceptions import ApiVersionRemoved, InvalidManifest, UnsupportedKind
from services.workload.manifests import COMPANION, HPA, WORKLOAD, read_documents, replicas_of

INPUTS = Path(__file__).resolve().parents[4] / "shared" / "inputs"


def test_guestbook_stream_has_three_deployments_and_three_services() -> None:
    docs = read_documents((INPUTS / "guestbook-all-in-one.yaml").read_text())

    assert [d.role for d in docs].count(WORKLOAD) == 3
    assert {d.owner for d in docs if d.role == COMPANION} == {"network"}
    assert [d.name for d in docs if d.role == WORKLOAD] == [
        "redis-master",
        "redis-replica",
        "frontend",
    ]


def test_json_flavoured_hpa_document_is_read() -> None:
    docs = read_documents((INPUTS / "php-apache-hpa.yaml").read_text())

    hpa = [d for d in docs if d.role == HPA][0]
    assert hpa.body["spec"]["maxReplicas"] == 10
    assert hpa.body["spec"]["scaleTargetRef"]["name"] == "php-apache"


def test_a_list_document_is_expanded() -> None:
    text = """
apiVersion: v1
kind: List
items:
- {apiVersion: batch/v1, kind: Job, metadata: {name: a}, spec: {template: {spec: {}}}}
- {apiVersion: batch/v1, kind: Job, metadata: {name: b}, spec: {template: {spec: {}}}}
"""
    assert [d.name for d in read_documents(text)] == ["a", "b"]


def test_removed_api_version_names_the_version_to_use() -> None:
    text = """
apiVersion: batch/v1beta1
kind: CronJob
metadata: {name: nightly}
spec: {schedule: "0 1 * * *", jobTemplate: {spec: {template: {spec: {}}}}}
"""
    with pytest.raises(ApiVersionRemoved) as caught:
        read_documents(text)

    assert caught.value.details["use"] == "batch/v1"
    assert caught.value.details["field"] == "apiVersion"
    assert "batch/v1" in caught.value.message
    assert caught.value.http_status == 422


def test_unknown_kind_is_refused_with_the_kind() -> None:
    with pytest.raises(UnsupportedKind) as caught:
        read_documents({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}})
    assert caught.value.details["kind"] == "Pod"


@pytest.mark.parametrize(
    "text, field",
    [
        ("a: [unclosed", "manifest"),
        ("- just\n- a list\n", "manifest"),
        ("kind: Deployment\nmetadata: {name: x}\n", "apiVersion"),
        ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {}\n", "metadata.name"),
        ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n", "spec"),
        ("", "manifest"),
    ],
)
def test_malformed_documents_name_the_field(text: str, field: str) -> None:
    with pytest.raises(InvalidManifest) as caught:
        read_documents(text)
    assert caught.value.details["field"] == field


def test_replicas_default_to_one_and_must_be_integers() -> None:
    body = {"kind": "Deployment", "metadata": {"name": "x"}, "spec": {}}
    assert replicas_of(body) == 1
    body["spec"]["replicas"] = "3"
    with pytest.raises(InvalidManifest):
        replicas_of(body)
