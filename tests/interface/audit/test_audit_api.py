"""The audit trail through the gateway: denials, tenant scope under every filter, exports,
transcripts; and billing's routes. Events are published on the real bus as the relay does.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from nameko.standalone.rpc import ServiceRpcProxy

from shared.events import new_event
from tests.interface.gateway.conftest import Client
from tests.interface.pipeline.support import count_rows, publish_all, wait_until

pytestmark = pytest.mark.interface

FILTERS = (
    {},
    {"actor": "ACTOR"},
    {"type": "workload.*"},
    {"type": "workload.created"},
    {"resource_kind": "Deployment"},
    {"resource_name": "shared-name"},
    {"resource_namespace": "team"},
    {"outcome": "success"},
    {"outcome": "denied"},
    {"since": "SINCE"},
    {"until": "UNTIL"},
    {"limit": 1, "offset": 1},
)


@pytest.fixture(scope="module")
def trail(client: Client, world: dict[str, Any], suite_config: dict[str, Any]) -> dict[str, Any]:
    """Events of both projects and of the cluster, with the same names and actors in each."""
    users = world["users"]
    events = []
    for project in (world["projects"]["own"], world["projects"]["other"]):
        for actor in (users["plain-user"], users["proj-admin"], users["other-user"]):
            for kind in ("workload.created", "workload.scaled", "config.created"):
                events.append(
                    new_event(
                        kind,
                        actor=actor,
                        project=project,
                        resource={
                            "kind": "Deployment",
                            "namespace": "team",
                            "name": "shared-name",
                        },
                        data={"revision": 1},
                    )
                )
    events.append(
        new_event("node.cordoned", actor="admin", resource={"kind": "Node", "name": "cpu-1"})
    )
    publish_all(suite_config["AMQP_URI"], events)
    ids = tuple(e["id"] for e in events)
    url = suite_config["AUDIT_DATABASE_URL"]
    wait_until(lambda: _stored(url, ids) == len(ids), 30, "the trail in the audit database")
    return {"events": events, "ids": ids}


def _stored(url: str, ids: tuple[str, ...]) -> int:
    from sqlalchemy import bindparam, text

    from shared.db import Database

    query = text("SELECT count(*) FROM audit_records WHERE event_id IN :ids").bindparams(
        bindparam("ids", expanding=True)
    )
    with Database(url).engine.connect() as conn:
        return int(conn.execute(query, {"ids": list(ids)}).scalar())


def _download(client: Client, path: str, token: str, params: dict[str, Any]) -> Any:
    """The raw answer of an export (Client.call would parse a one-line export as JSON)."""
    return client.session.get(
        client.base + path, headers={"Authorization": f"Bearer {token}"}, params=params, timeout=30
    )


def _concrete(filters: dict[str, Any], actor: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    values = {"ACTOR": actor, "SINCE": (now - timedelta(hours=1)).isoformat()}
    values["UNTIL"] = (now + timedelta(hours=1)).isoformat()
    return {k: values.get(v, v) if isinstance(v, str) else v for k, v in filters.items()}


def test_a_project_never_sees_another_projects_records(
    client: Client, world: dict[str, Any], trail: dict[str, Any]
) -> None:
    own, other = world["projects"]["own"], world["projects"]["other"]
    for role in ("project_admin", "department_admin", "user"):
        token = world["tokens"][role]
        for filters in FILTERS:
            actor = world["users"]["plain-user"]
            reply = client.call(
                "GET",
                f"/api/v1/projects/{own}/audit",
                token=token,
                params=_concrete(filters, actor),
            )
            assert reply.status == 200, (role, filters, reply.body)
            assert {item["project_id"] for item in reply.body["items"]} <= {own}, (role, filters)
            refused = client.call(
                "GET",
                f"/api/v1/projects/{other}/audit",
                token=token,
                params=_concrete(filters, actor),
            )
            assert refused.status == 403, (role, filters, refused.body)
            exported = _download(
                client,
                f"/api/v1/projects/{own}/audit/export",
                token,
                {**_concrete(filters, actor), "format": "jsonl"},
            )
            assert exported.status_code == 200, (role, filters, exported.text)
            lines = [json.loads(line) for line in exported.text.splitlines() if line]
            assert {line["project_id"] for line in lines} <= {own}, (role, filters)


def test_an_ordinary_user_sees_only_their_own_actions(
    client: Client, world: dict[str, Any], trail: dict[str, Any]
) -> None:
    own = world["projects"]["own"]
    me = world["users"]["plain-user"]
    reply = client.call(
        "GET",
        f"/api/v1/projects/{own}/audit",
        token=world["tokens"]["user"],
        params={"limit": 500},
    )
    assert reply.status == 200
    assert reply.body["total"] >= 3
    assert {item["actor"] for item in reply.body["items"]} == {me}
    someone_else = client.call(
        "GET",
        f"/api/v1/projects/{own}/audit",
        token=world["tokens"]["user"],
        params={"actor": world["users"]["proj-admin"]},
    )
    assert someone_else.status == 403 and "actor" in someone_else.body["details"]["fields"]


def test_the_cloud_admin_sees_every_project_and_the_cluster(
    client: Client, world: dict[str, Any], trail: dict[str, Any]
) -> None:
    admin = world["tokens"]["cloud_admin"]
    everything = client.call("GET", "/api/v1/audit", token=admin, params={"limit": 500})
    assert everything.status == 200
    projects = {item["project_id"] for item in everything.body["items"]}
    assert {world["projects"]["own"], world["projects"]["other"], None} <= projects
    cluster = client.call("GET", "/api/v1/audit", token=admin, params={"cluster_only": "true"})
    assert {item["project_id"] for item in cluster.body["items"]} == {None}
    for role in ("project_admin", "department_admin", "user"):
        assert client.call("GET", "/api/v1/audit", token=world["tokens"][role]).status == 403


def test_denied_requests_are_in_the_trail(
    client: Client, world: dict[str, Any], suite_config: dict[str, Any]
) -> None:
    other = world["projects"]["other"]
    bad_token = client.call("GET", f"/api/v1/projects/{other}/audit", token="scs_not-a-token")
    assert bad_token.status == 401
    forbidden = client.call(
        "GET", f"/api/v1/projects/{other}/billing/usage", token=world["tokens"]["user"]
    )
    assert forbidden.status == 403
    admin = world["tokens"]["cloud_admin"]

    def denial(request_id: str) -> Any:
        reply = client.call(
            "GET",
            "/api/v1/audit",
            token=admin,
            params={"outcome": "denied", "request_id": request_id},
        )
        return reply.body["items"][0] if reply.body["items"] else None

    anonymous = wait_until(lambda: denial(bad_token.headers["X-Request-Id"]), 15, "401 record")
    assert anonymous["actor"] == "anonymous" and anonymous["source"] == "127.0.0.1"
    assert anonymous["data"]["reason"] in ("invalid_token", "unauthenticated")
    refused = wait_until(lambda: denial(forbidden.headers["X-Request-Id"]), 15, "403 record")
    assert refused["actor"] == world["users"]["plain-user"]
    assert refused["project_id"] == other
    assert refused["data"]["area"] == "billing" and refused["data"]["reason"] == "forbidden"


def test_exports_stream_json_lines_and_csv(
    client: Client, world: dict[str, Any], trail: dict[str, Any]
) -> None:
    own = world["projects"]["own"]
    token = world["tokens"]["project_admin"]
    listed = client.call("GET", f"/api/v1/projects/{own}/audit", token=token, params={"limit": 1})
    path = f"/api/v1/projects/{own}/audit/export"
    jsonl = _download(client, path, token, {"format": "jsonl"})
    assert jsonl.status_code == 200
    assert jsonl.headers["Content-Type"].startswith("application/x-ndjson")
    rows = [json.loads(line) for line in jsonl.text.splitlines()]
    assert len(rows) >= listed.body["total"] >= 9
    assert len({row["event_id"] for row in rows}) == len(rows)
    as_csv = _download(client, path, token, {"format": "csv"})
    assert as_csv.status_code == 200 and as_csv.headers["Content-Type"].startswith("text/csv")
    records = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert len(records) >= listed.body["total"]
    assert {r["project_id"] for r in records} == {own}
    bad = client.call(
        "GET", f"/api/v1/projects/{own}/audit/export", token=token, params={"format": "xml"}
    )
    assert bad.status == 400 and "format" in bad.body["details"]["fields"]


def test_bad_filters_are_refused_with_the_field(client: Client, world: dict[str, Any]) -> None:
    own = world["projects"]["own"]
    token = world["tokens"]["project_admin"]
    for params, field in (
        ({"since": "yesterday"}, "since"),
        ({"type": "not a type"}, "type"),
        ({"limit": 0}, "limit"),
        ({"unknown": 1}, "unknown"),
    ):
        reply = client.call("GET", f"/api/v1/projects/{own}/audit", token=token, params=params)
        assert reply.status == 400, (params, reply.body)
        assert field in reply.body["details"]["fields"], reply.body


def test_transcripts_are_capped_and_for_admins(
    client: Client, world: dict[str, Any], suite_config: dict[str, Any]
) -> None:
    own = world["projects"]["own"]
    session_id = uuid.uuid4().hex
    with ServiceRpcProxy("audit", suite_config) as audit:
        audit.store_transcript(own, "web-0", session_id, "$ id\r\nuid=0\r\n", 0)
        chunk = "x" * (256 * 1024)  # the largest chunk one call takes
        for index in range(5):
            answer = audit.store_transcript(
                own, "web-0", session_id, chunk, 14 + index * len(chunk)
            )
    assert answer["truncated"] is True and answer["stored_bytes"] == 1024 * 1024
    path = f"/api/v1/projects/{own}/audit/transcripts/{session_id}"
    reply = client.call("GET", path, token=world["tokens"]["project_admin"])
    assert reply.status == 200 and reply.body["content"].startswith("$ id")
    assert client.call("GET", path, token=world["tokens"]["user"]).status == 403
    other = f"/api/v1/projects/{world['projects']['other']}/audit/transcripts/{session_id}"
    assert client.call("GET", other, token=world["tokens"]["cloud_admin"]).status == 404


def test_billing_routes_follow_the_matrix(
    client: Client, world: dict[str, Any], suite_config: dict[str, Any]
) -> None:
    own = world["projects"]["own"]
    started = datetime.now(UTC) - timedelta(minutes=10)
    publish_all(
        suite_config["AMQP_URI"],
        [
            new_event(
                "pod.started",
                actor="system",
                project=own,
                resource={"kind": "Pod", "namespace": "team", "name": "w-0", "uid": "pod-1"},
                data={
                    "cpu_millicores": 2000,
                    "memory_bytes": 2**30,
                    "overhead_cpu_millicores": 250,
                    "overhead_memory_bytes": 160 * 2**20,
                    "started_at": started.isoformat(),
                },
            )
        ],
    )
    url = suite_config["BILLING_DATABASE_URL"]
    wait_until(lambda: count_rows(url, "billing_pod_intervals") == 1, 15, "the pod in billing")
    admin = world["tokens"]["project_admin"]
    usage = client.call("GET", f"/api/v1/projects/{own}/billing/usage", token=admin)
    assert usage.status == 200 and usage.body["cpu_core_seconds"]["requested"] >= 1200
    cost = client.call("GET", f"/api/v1/projects/{own}/billing/cost", token=admin)
    assert cost.status == 200 and float(cost.body["total"]) > 0
    user = world["tokens"]["user"]
    assert client.call("GET", f"/api/v1/projects/{own}/billing/usage", token=user).status == 403
    everything = client.call("GET", "/api/v1/billing/usage", token=world["tokens"]["cloud_admin"])
    assert everything.status == 200
    assert own in {p["project_id"] for p in everything.body["projects"]}
    bad = client.call(
        "GET", f"/api/v1/projects/{own}/billing/usage", token=admin, params={"since": "soon"}
    )
    assert bad.status == 400 and "since" in bad.body["details"]["fields"]
