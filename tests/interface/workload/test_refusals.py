"""Refusals through the gateway that happen before the cluster is asked (HTTP 4xx, field named)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.interface.gateway.conftest import Client

pytestmark = pytest.mark.interface

HOSTPATH = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: app, image: nginx}]
      volumes:
      - name: host
        hostPath: {path: /var/run}
"""

JSON_FLAVOUR = """
{
  apiVersion: "apps/v1",
  kind: "DaemonSet",
  metadata: { name: "agent", },
  spec: {
    selector: { matchLabels: { app: "agent" } },
    template: {
      metadata: { labels: { app: "agent" } },
      spec: { hostPID: true, containers: [{ name: "a", image: "busybox" }] },
    },
  },
}
"""


def _create(client: Client, tenant: dict, body: dict[str, Any]) -> Any:
    return client.call(
        "POST",
        f"/api/v1/projects/{tenant['project']}/workloads",
        token=tenant["token"],
        json_body=body,
    )


def test_hostpath_is_refused_naming_the_field(client: Client, tenant: dict) -> None:
    reply = _create(client, tenant, {"namespace": "vision-dev", "manifest": HOSTPATH})

    assert reply.status == 422, reply.body
    assert reply.body["code"] == "isolation_violation"
    assert reply.body["details"]["field"] == "spec.template.spec.volumes[0].hostPath"


def test_json_flavoured_yaml_is_read_and_checked(client: Client, tenant: dict) -> None:
    reply = _create(client, tenant, {"namespace": "vision-dev", "manifest": JSON_FLAVOUR})

    assert reply.status == 422, reply.body
    assert reply.body["details"]["field"] == "spec.template.spec.hostPID"


def test_a_second_document_is_checked_too(client: Client, tenant: dict) -> None:
    privileged = HOSTPATH.replace(
        "      volumes:\n      - name: host\n        hostPath: {path: /var/run}\n", ""
    ).replace(
        "{name: app, image: nginx}", "{name: app, image: x, securityContext: {privileged: true}}"
    )
    manifest = (
        "apiVersion: batch/v1\nkind: Job\nmetadata: {name: ok}\n"
        "spec: {template: {spec: {containers: [{name: c, image: x}]}}}\n---\n" + privileged
    )

    reply = _create(client, tenant, {"namespace": "vision-dev", "manifest": manifest})

    assert reply.status == 422, reply.body
    assert reply.body["details"]["document"] == 1
    field = "spec.template.spec.containers[0].securityContext.privileged"
    assert reply.body["details"]["field"] == field


def test_removed_api_version(client: Client, tenant: dict) -> None:
    manifest = (
        "apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata: {name: old}\nspec: {}\n"
    )
    reply = _create(client, tenant, {"namespace": "vision-dev", "manifest": manifest})

    assert reply.status == 422
    assert reply.body["code"] == "api_version_removed"
    assert reply.body["details"] == {
        "field": "apiVersion",
        "document": 0,
        "version": "extensions/v1beta1",
        "use": "apps/v1",
    }


@pytest.mark.parametrize(
    "body, status, field",
    [
        ({"namespace": "vision-dev", "manifest": "a: [unclosed"}, 400, "manifest"),
        ({"namespace": "vision-dev"}, 400, "manifest"),
        ({"namespace": "Not_A_Namespace", "manifest": "x: 1"}, 400, "namespace"),
        ({"namespace": "vision-dev", "form": {"kind": "Deployment", "name": "w"}}, 400, "image"),
        (
            {"namespace": "vision-dev", "form": {"kind": "Pod", "name": "w", "image": "x"}},
            400,
            "kind",
        ),
    ],
)
def test_bad_input_is_a_4xx_naming_the_field(
    client: Client, tenant: dict, body: dict, status: int, field: str
) -> None:
    reply = _create(client, tenant, body)

    assert reply.status == status, reply.body
    text = str(reply.body["details"])
    assert field in text


def test_scale_needs_a_namespace_and_an_integer(client: Client, tenant: dict) -> None:
    path = f"/api/v1/projects/{tenant['project']}/workloads/web/scale"
    reply = client.call("PUT", path, token=tenant["token"], json_body={"replicas": "many"})

    assert reply.status == 400
    assert "replicas" in reply.body["details"]["fields"]


def test_an_unknown_workload_is_404(client: Client, tenant: dict) -> None:
    path = f"/api/v1/projects/{tenant['project']}/workloads/nope"
    reply = client.call("GET", path, token=tenant["token"], params={"namespace": "vision-dev"})

    assert reply.status == 404
    assert reply.body["code"] == "workload_not_found"
