"""The gateway's HTTP contract: tokens, bad input, errors, request ids, health, OpenAPI.

Runs against the real suite of tests/interface/gateway/conftest.py (nothing mocked).
"""

from __future__ import annotations

import json
import socket
import time
from typing import Any

import pytest
from nameko.standalone.rpc import ServiceRpcProxy

from tests.interface.gateway.conftest import Client

pytestmark = pytest.mark.interface

USERS = "/api/v1/users"


def _quota_path(world: dict) -> str:
    return f"/api/v1/projects/{world['projects']['own']}/quota"


def test_health_and_readiness(client: Client) -> None:
    assert client.call("GET", "/healthz").status == 200
    ready = client.call("GET", "/readyz")
    # This suite runs auth and quota only: they answer, every other backing service is
    # reported unavailable, so the gateway is not ready.
    from gateway.service import BACKING_SERVICES

    checks = ready.body["checks"]
    assert set(checks) == set(BACKING_SERVICES)
    assert checks["auth"] == "ok" and checks["quota"] == "ok"
    missing = set(BACKING_SERVICES) - {"auth", "quota"}
    assert all(checks[name].startswith("unavailable") for name in missing), checks
    assert ready.status == (503 if missing else 200), ready.body


def test_openapi_document_lists_every_route(client: Client) -> None:
    from gateway.api import ROUTES

    reply = client.call("GET", "/api/v1/openapi.json")
    assert reply.status == 200
    assert reply.body["openapi"].startswith("3.")
    assert len(reply.body["paths"]) >= len({r.path for r in ROUTES})
    login = reply.body["paths"]["/api/v1/auth/login"]["post"]
    assert "requestBody" in login


def test_request_id_is_echoed_or_made(client: Client) -> None:
    echoed = client.call("GET", "/healthz", headers={"X-Request-Id": "abc-123"})
    assert echoed.headers["X-Request-Id"] == "abc-123"
    made = client.call("GET", "/api/v1/auth/whoami")
    assert made.status == 401
    assert len(made.headers["X-Request-Id"]) == 32


def test_missing_or_wrong_token_is_401(client: Client) -> None:
    for headers in ({}, {"Authorization": "Bearer scs_nope"}, {"Authorization": "Basic x"}):
        reply = client.call("GET", "/api/v1/auth/whoami", headers=headers)
        assert reply.status == 401, reply.body
        assert reply.body["code"].startswith(("unauthenticated", "invalid", "token"))


def test_revoked_token_is_401(client: Client, admin_token: str) -> None:
    created = client.call(
        "POST",
        "/api/v1/auth/tokens",
        token=admin_token,
        json_body={"name": "ci", "ttl_seconds": 3600},
    )
    assert created.status == 201, created.body
    token = created.body["token"]
    assert client.call("GET", "/api/v1/auth/whoami", token=token).status == 200
    revoked = client.call(
        "DELETE", f"/api/v1/auth/tokens/{created.body['token_id']}", token=admin_token
    )
    assert revoked.status == 200, revoked.body
    after = client.call("GET", "/api/v1/auth/whoami", token=token)
    assert after.status == 401 and after.code == "token_revoked", after.body


def test_expired_token_is_401(client: Client, suite_config: dict[str, Any], world: dict) -> None:
    # The HTTP API refuses TTLs under a minute, so the short-lived token is made over RPC.
    with ServiceRpcProxy("auth", suite_config) as auth:
        token = auth.create_api_token(world["users"]["plain-user"], "short", 1)["token"]
    assert client.call("GET", "/api/v1/auth/whoami", token=token).status == 200
    time.sleep(1.5)
    reply = client.call("GET", "/api/v1/auth/whoami", token=token)
    assert reply.status == 401 and reply.code == "token_expired", reply.body


def test_wrong_password_is_401_without_saying_which(client: Client) -> None:
    unknown = client.call(
        "POST", "/api/v1/auth/login", json_body={"username": "nobody", "password": "whatever-1"}
    )
    wrong = client.call(
        "POST", "/api/v1/auth/login", json_body={"username": "admin", "password": "whatever-1"}
    )
    assert unknown.status == wrong.status == 401
    assert unknown.code == wrong.code
    assert unknown.body["message"] == wrong.body["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"password": "long-enough-1"}, "username"),
        ({"username": "newbie"}, "password"),
        ({"username": "newbie", "password": "long-enough-1", "role": "god"}, "role"),
        ({"username": 42, "password": "long-enough-1"}, "username"),
        ({"username": "newbie", "password": ["x"]}, "password"),
        ({"username": "Bad Name!", "password": "long-enough-1"}, "username"),
        ({"username": "newbie", "password": "short"}, "password"),
        (
            {"username": "newbie", "password": "long-enough-1", "is_cloud_admin": "yes-ish"},
            "is_cloud_admin",
        ),
        (
            {"username": "newbie", "password": "long-enough-1", "is_cloud_admin": "yes"},
            "is_cloud_admin",
        ),
        (
            {"username": "newbie", "password": "long-enough-1", "is_cloud_admin": 1},
            "is_cloud_admin",
        ),
    ],
)
def test_bad_user_input_is_400_naming_the_field(
    client: Client, admin_token: str, body: dict, field: str
) -> None:
    before = client.call("GET", USERS, token=admin_token, params={"limit": 500}).body["total"]
    reply = client.call("POST", USERS, token=admin_token, json_body=body)
    assert reply.status == 400, reply.body
    assert reply.code == "validation_failed"
    assert field in reply.body["details"]["fields"]
    after = client.call("GET", USERS, token=admin_token, params={"limit": 500}).body["total"]
    assert after == before


@pytest.mark.parametrize(
    ("limits", "field"),
    [
        ({"cpu": "-1"}, "limits.cpu"),
        ({"cpu": -2}, "limits.cpu"),
        ({"memory": "lots"}, "limits.memory"),
        ({"memory": "9999999999Ei"}, "limits.memory"),
        ({"gpu": "1.5"}, "limits.gpu"),
        ({"gpu": True}, "limits.gpu"),
        ({"bananas": 3}, "limits"),
    ],
)
def test_bad_quota_is_400_and_nothing_is_half_written(
    client: Client, admin_token: str, world: dict, limits: dict, field: str
) -> None:
    path = _quota_path(world)
    good = client.call("PUT", path, token=admin_token, json_body={"limits": {"cpu": "4"}})
    assert good.status == 200, good.body
    # One good resource next to one bad: nothing of the request may be applied.
    reply = client.call(
        "PUT", path, token=admin_token, json_body={"limits": {"cpu": "8", **limits}}
    )
    assert reply.status == 400, reply.body
    assert any(key.startswith(field) for key in _flatten(reply.body["details"]["fields"]))
    usage = client.call("GET", path, token=admin_token).body
    assert usage["resources"]["cpu"]["limit"] == 4000


def _flatten(fields: dict, prefix: str = "") -> list[str]:
    names = []
    for key, value in fields.items():
        name = f"{prefix}{key}"
        names.append(name)
        if isinstance(value, dict):
            names.extend(_flatten(value, f"{name}."))
    return names


def test_quota_quantities_are_exact(client: Client, admin_token: str, world: dict) -> None:
    path = _quota_path(world)
    reply = client.call(
        "PUT",
        path,
        token=admin_token,
        json_body={
            "limits": {
                "cpu": "2500m",
                "memory": "8Gi",
                "gpu": 2,
                "storage.capacity": "100Gi",
                "count.pods": 50,
            }
        },
    )
    assert reply.status == 200, reply.body
    resources = client.call("GET", path, token=admin_token).body["resources"]
    assert resources["cpu"]["limit"] == 2500
    assert resources["memory"]["limit"] == 8 * 2**30
    assert resources["storage.capacity"]["limit"] == 100 * 2**30
    assert resources["count.pods"]["limit"] == 50


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"[1, 2", b"\xff\xfe", b'"a string"', b"[]", b"12"],
)
def test_malformed_or_non_object_json_is_400(client: Client, admin_token: str, raw: bytes) -> None:
    reply = client.call("POST", USERS, token=admin_token, data=raw)
    assert reply.status == 400, reply.body
    assert reply.code in ("malformed_json", "validation_failed")
    assert reply.body["details"]["location"] == "body"


def test_oversized_body_is_refused(client: Client, admin_token: str) -> None:
    huge = b'{"username": "' + b"a" * (2 * 1024 * 1024) + b'", "password": "long-enough-1"}'
    reply = client.call("POST", USERS, token=admin_token, data=huge)
    assert reply.status == 413, reply.body
    assert reply.code == "payload_too_large"
    assert reply.body["details"]["location"] == "body"


@pytest.mark.parametrize(
    "params",
    [{"limit": "0"}, {"limit": "x"}, {"offset": "-1"}, {"limit": "100000"}, {"sort": "name"}],
)
def test_bad_pagination_is_400(client: Client, admin_token: str, params: dict) -> None:
    reply = client.call("GET", USERS, token=admin_token, params=params)
    assert reply.status == 400, reply.body
    assert reply.body["details"]["location"] == "query"


def test_pagination_pages_through_users(client: Client, admin_token: str, world: dict) -> None:
    first = client.call("GET", USERS, token=admin_token, params={"limit": 2, "offset": 0}).body
    second = client.call("GET", USERS, token=admin_token, params={"limit": 2, "offset": 2}).body
    assert len(first["items"]) == 2 and first["total"] >= 6
    assert not {u["id"] for u in first["items"]} & {u["id"] for u in second["items"]}


def test_unknown_path_and_unknown_project_are_json_404(client: Client, admin_token: str) -> None:
    reply = client.call("GET", "/api/v1/nothing-here", token=admin_token)
    assert reply.status == 404 and reply.code == "not_found"
    assert reply.body["details"] == {"path": "/api/v1/nothing-here"}
    assert reply.headers["Content-Type"] == "application/json"
    missing = client.call("GET", "/api/v1/projects/no-such-project", token=admin_token)
    assert missing.status == 404, missing.body


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"])
@pytest.mark.parametrize("path", ["/", "/nothing", "/api/v1/nothing/" + "x" * 1000])
def test_every_method_on_an_unknown_path_is_json_404(
    client: Client, method: str, path: str
) -> None:
    reply = client.call(method, path, headers={"X-Request-Id": "probe-404"})
    assert reply.status == 404, reply.body
    assert reply.code == "not_found"
    assert reply.body["details"]["path"] == path[:256]
    assert reply.headers["X-Request-Id"] == "probe-404"


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/api/v1/auth/login", ["OPTIONS", "POST"]),
        ("GET", "/api/v1/auth/login", ["OPTIONS", "POST"]),
        ("PUT", "/api/v1/users", ["GET", "HEAD", "OPTIONS", "POST"]),
        ("POST", "/healthz", ["GET", "HEAD", "OPTIONS"]),
    ],
)
def test_a_wrong_method_is_json_405_with_allow(
    client: Client, method: str, path: str, allowed: list[str]
) -> None:
    reply = client.call(method, path, json_body={})
    assert reply.status == 405, reply.body
    assert reply.code == "method_not_allowed"
    assert reply.body["details"] == {"method": method, "path": path, "allowed": allowed}
    assert reply.headers["Allow"] == ", ".join(allowed)
    assert len(reply.headers["X-Request-Id"]) == 32


def test_options_on_a_known_path_is_204_with_allow(client: Client, world: dict) -> None:
    reply = client.call("OPTIONS", f"/api/v1/projects/{world['projects']['own']}/members")
    assert reply.status == 204
    assert reply.body == ""
    assert reply.headers["Allow"] == "GET, HEAD, OPTIONS, POST"
    assert "Access-Control-Allow-Origin" not in reply.headers


def test_duplicate_user_is_409(client: Client, admin_token: str) -> None:
    body = {"username": "twice", "password": "long-enough-1"}
    assert client.call("POST", USERS, token=admin_token, json_body=body).status == 201
    again = client.call("POST", USERS, token=admin_token, json_body=body)
    assert again.status == 409, again.body


@pytest.mark.parametrize(
    "raw",
    [
        b'{"name": "deep", "description": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        b'{"name": "deep", "description": ' + b"[" * 70 + b"]" * 70 + b"}",
        b'{"name": "surrogate", "description": "\\ud800"}',
        b'{"name": "nul", "description": "a\\u0000b"}',
        b'{"\\udfff": 1}',
    ],
)
def test_json_no_service_could_store_is_400_not_500(
    client: Client, admin_token: str, raw: bytes
) -> None:
    reply = client.call("POST", "/api/v1/departments", token=admin_token, data=raw)
    assert reply.status == 400, reply.body
    assert reply.code == "malformed_json"
    assert reply.body["details"]["location"] == "body"


def test_unauthenticated_login_with_a_lone_surrogate_is_400(client: Client) -> None:
    reply = client.call(
        "POST", "/api/v1/auth/login", data=b'{"username": "\\ud800", "password": "x"}'
    )
    assert reply.status == 400, reply.body


def test_a_chunked_body_is_read(client: Client, admin_token: str) -> None:
    def chunks():
        yield b'{"name": "chunked-dept", '
        yield b'"description": "sent in chunks"}'

    response = client.session.post(
        client.base + "/api/v1/departments",
        data=chunks(),
        headers={"Authorization": f"Bearer {admin_token}", "Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "chunked-dept"


def test_null_removes_a_limit(client: Client, admin_token: str, world: dict) -> None:
    path = _quota_path(world)
    set_first = client.call("PUT", path, token=admin_token, json_body={"limits": {"gpu": 3}})
    assert set_first.status == 200, set_first.body
    removed = client.call("PUT", path, token=admin_token, json_body={"limits": {"gpu": None}})
    assert removed.status == 200, removed.body
    gpu = client.call("GET", path, token=admin_token).body["resources"].get("gpu")
    assert gpu is None or gpu["limit"] is None


def test_quota_of_an_unknown_project_is_404(client: Client, admin_token: str) -> None:
    reply = client.call("GET", "/api/v1/projects/no-such-project/quota", token=admin_token)
    assert reply.status == 404, reply.body


def test_an_over_long_header_is_json_431_naming_it(client: Client) -> None:
    token = "scs_" + "a" * 100_000
    reply = client.call("GET", "/api/v1/auth/whoami", headers={"Authorization": f"Bearer {token}"})
    assert reply.status == 431, reply.body
    assert reply.code == "header_too_large"
    assert reply.body["details"] == {
        "location": "headers",
        "field": "Authorization",
        "max_bytes": 8192,
    }
    assert reply.headers["Connection"] == "close"
    assert client.call("GET", "/healthz").status == 200


@pytest.mark.parametrize(
    "headers",
    [
        {f"X-Filler-{i}": "f" * 7000 for i in range(12)},  # 84 kB in all
        {f"X-Many-{i}": "m" for i in range(120)},  # more than 100 headers
    ],
)
def test_too_many_header_bytes_or_headers_are_json_431(
    client: Client, headers: dict[str, str]
) -> None:
    reply = client.call("GET", "/healthz", headers=headers)
    assert reply.status == 431, reply.body
    assert reply.code == "header_too_large"
    assert reply.body["details"]["location"] == "headers"


def test_a_malformed_request_line_is_json_400(client: Client) -> None:
    host, port = client.base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"NONSENSE\r\n\r\n")
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 "), raw
    assert b"Content-Type: application/json" in head
    assert json.loads(body)["code"] == "bad_request"
