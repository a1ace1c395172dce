"""The storage and volume_claims areas through the gateway, and the quota contract over RPC.

Real: broker, databases, services, HTTP (see the network conftest). What is checked here needs
no cluster: validation, the permission matrix (volumes and classes are for admins), and the
quota service's refusal arriving typed through storage's charges module.
"""

from __future__ import annotations

import pytest

from services.storage import charges
from services.storage.charges import StorageQuotaExceeded

pytestmark = pytest.mark.interface

P = "/api/v1/projects/{}"
GI = 2**30


def test_bad_claim_forms_name_the_field(client, world) -> None:
    path = P.format(world["projects"]["own"]) + "/volume-claims"
    token = world["tokens"]["user"]
    for body, field in (
        ({"name": "data", "size": "1Gi"}, "namespace"),
        ({"namespace": "ns", "name": "data"}, "size"),
        ({"namespace": "ns", "name": "data", "size": "1Gi", "color": "red"}, "color"),
    ):
        reply = client.call("POST", path, token=token, json_body=body)
        assert reply.status == 400, reply.body
        assert field in reply.body["details"]["fields"]


def test_the_service_validates_sizes(rpc) -> None:
    with pytest.raises(Exception) as caught:
        rpc.storage.create_claim("p1", "ns", {"name": "data", "size": "lots"})
    assert getattr(caught.value, "code", None) == "invalid_claim"
    assert "size" in caught.value.details["fields"]


def test_volumes_and_classes_are_for_admins(client, world) -> None:
    base = P.format(world["projects"]["own"])
    for path in (
        "/storage/volumes",
        "/storage/classes/capacity/yaml",
        "/storage/volumes/pvc-x/yaml",
    ):
        reply = client.call("GET", base + path, token=world["tokens"]["user"])
        assert reply.status == 403, (path, reply.body)


def test_class_list_is_served(client, world) -> None:
    reply = client.call(
        "GET",
        P.format(world["projects"]["own"]) + "/storage/classes",
        token=world["tokens"]["project_admin"],
    )
    assert reply.status == 200
    names = {c["name"]: c["default"] for c in reply.body["items"]}
    assert names == {"capacity": True, "high-performance": False}


def test_quota_refusal_arrives_typed_through_charges(rpc) -> None:
    rpc.quota.set_limits("p-charges", {"storage.high-performance": 2 * GI}, "admin")
    charges.reserve(rpc.quota, "p-charges", "k1", "high-performance", GI, "u1")
    with pytest.raises(StorageQuotaExceeded) as caught:
        charges.reserve(rpc.quota, "p-charges", "k2", "high-performance", 2 * GI, "u1")
    assert caught.value.http_status == 422
    assert caught.value.details["resource"] == "storage.high-performance"
    charges.release(rpc.quota, "k1", "u1")
    charges.release(rpc.quota, "never-made", "u1")  # idempotent: no error
    charges.reserve(rpc.quota, "p-charges", "k3", "high-performance", 2 * GI, "u1")
