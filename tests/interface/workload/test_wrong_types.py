"""Wrongly-typed manifests through the gateway: 400 invalid_manifest naming the field and the
document, and nothing created or reserved. These cases answered 500 (or 503, for a Service's
port) before the structural check. NaN and Infinity literals never reach the quota service.

Real: RabbitMQ, PostgreSQL, the auth, quota, workload and gateway containers (see conftest).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.interface.gateway.conftest import ADMIN, Client

pytestmark = pytest.mark.interface

DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "fz", "labels": {"a": "b"}},
    "spec": {
        "selector": {"matchLabels": {"a": "fz"}},
        "template": {
            "metadata": {"labels": {"a": "fz"}},
            "spec": {
                "containers": [
                    {"name": "c", "image": "nginx", "resources": {"requests": {"cpu": "10m"}}}
                ],
                "tolerations": [{"key": "k", "operator": "Exists"}],
            },
        },
    },
}
SERVICE = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "fzs"},
    "spec": {"selector": {"a": "fz"}, "ports": [{"port": 80}]},
}


def _deployment(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    body = copy.deepcopy(DEPLOYMENT)
    node: Any = body
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return body


TEMPLATE = ("spec", "template")
CONTAINER = (*TEMPLATE, "spec", "containers", 0)


@pytest.fixture(scope="module", autouse=True)
def limits(client: Client, tenant: dict) -> None:
    """Limits, so that the usage answer lists cpu and memory (and shows nothing reserved)."""
    reply = client.call(
        "PUT",
        f"/api/v1/projects/{tenant['project']}/quota",
        token=client.login(*ADMIN),
        json_body={"limits": {"cpu": "4", "memory": "8Gi"}},
    )
    assert reply.status == 200, reply.body


@pytest.mark.parametrize(
    "documents, field, index",
    [
        ([_deployment(TEMPLATE, None)], "spec.template", 0),
        ([_deployment((*TEMPLATE, "metadata", "labels"), 7)], "spec.template.metadata.labels", 0),
        ([_deployment(("metadata", "labels"), 7)], "metadata.labels", 0),
        (
            [_deployment((*TEMPLATE, "spec", "containers"), True)],
            "spec.template.spec.containers",
            0,
        ),
        (
            [_deployment((*CONTAINER, "resources", "requests", "cpu"), [])],
            "spec.template.spec.containers[0].resources.requests.cpu",
            0,
        ),
        (
            [_deployment((*TEMPLATE, "spec", "tolerations"), 7)],
            "spec.template.spec.tolerations",
            0,
        ),
        (
            [DEPLOYMENT, {**SERVICE, "spec": {"ports": [{"port": "str"}]}}],
            "spec.ports[0].port",
            1,
        ),
    ],
)
def test_a_wrong_type_is_400_naming_the_field_and_nothing_is_created(
    client: Client, tenant: dict, documents: list[dict[str, Any]], field: str, index: int
) -> None:
    project = tenant["project"]

    reply = client.call(
        "POST",
        f"/api/v1/projects/{project}/workloads",
        token=tenant["token"],
        json_body={"namespace": "vision-dev", "manifest": documents},
    )

    assert reply.status == 400, reply.body
    assert reply.body["code"] == "invalid_manifest"
    assert (reply.body["details"]["field"], reply.body["details"]["document"]) == (field, index)
    listed = client.call("GET", f"/api/v1/projects/{project}/workloads", token=tenant["token"])
    assert listed.status == 200 and _items(listed.body) == []
    usage = client.call("GET", f"/api/v1/projects/{project}/quota", token=tenant["token"])
    assert {name: r["used"] for name, r in usage.body["resources"].items()} == {
        "cpu": 0,
        "memory": 0,
    }, usage.body


@pytest.mark.parametrize("literal", ["NaN", "Infinity"])
def test_nan_and_infinity_in_a_quota_are_malformed_json(
    client: Client, tenant: dict, literal: str
) -> None:
    admin = client.login(*ADMIN)

    reply = client.call(
        "PUT",
        f"/api/v1/projects/{tenant['project']}/quota",
        token=admin,
        data=f'{{"limits": {{"cpu": {literal}}}}}'.encode(),
    )

    assert reply.status == 400, reply.body
    assert reply.body["code"] == "malformed_json"


def _items(body: Any) -> list[Any]:
    return list(body["items"] if isinstance(body, dict) else body)
