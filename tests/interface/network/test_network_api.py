"""The network area through the gateway and the network service's RPC, before the cluster.

Real: broker, databases, services, HTTP (conftest.py). What is checked here is decided without
the cluster: validation (400 naming the field), the permission matrix, the pool's state.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.interface

P = "/api/v1/projects/{}"


def test_the_pool_is_the_configured_one(rpc) -> None:
    state = rpc.network.pool_state()
    assert state["size"] == 16 and state["free"] + len(state["allocated"]) == 16


def test_bad_forms_are_refused_with_the_field(client, world) -> None:
    token = world["tokens"]["user"]
    path = P.format(world["projects"]["own"]) + "/services"
    cases = [
        ({"name": "web", "ports": [{"port": 80}]}, "namespace"),
        ({"namespace": "ns", "name": "web", "ports": [{"port": 0}]}, "ports"),
        ({"namespace": "ns", "name": "web", "type": "ExternalName", "ports": []}, "type"),
        ({"namespace": "ns", "name": "web", "ports": [{"port": 80}], "color": "red"}, "color"),
    ]
    for body, field in cases:
        reply = client.call("POST", path, token=token, json_body=body)
        assert reply.status == 400, reply.body
        assert field in reply.body["details"]["fields"], reply.body


def test_the_service_validates_the_form_too(rpc) -> None:
    with pytest.raises(Exception) as caught:
        rpc.network.create_object("p1", "ns", {"name": "Bad_Name", "ports": [{"port": 80}]})
    assert getattr(caught.value, "code", None) == "invalid_manifest"
    assert "name" in caught.value.details["fields"]


def test_members_of_another_project_are_forbidden(client, world) -> None:
    path = P.format(world["projects"]["own"]) + "/services"
    reply = client.call("GET", path, token=world["tokens"]["other_user"])
    assert reply.status == 403 and reply.code == "forbidden"


def test_apply_manifest_refuses_kinds_of_other_services(rpc) -> None:
    manifest = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {}}
    with pytest.raises(Exception) as caught:
        rpc.network.apply_manifest("p1", "ns", manifest, "u1")
    assert getattr(caught.value, "code", None) == "invalid_manifest"
    assert "kind" in caught.value.details["fields"]
