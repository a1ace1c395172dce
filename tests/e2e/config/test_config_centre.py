"""Acceptance of issue 8 (configuration centre) through the gateway."""

from __future__ import annotations

import base64
import json
import os
import secrets
from typing import Any

import pytest
import requests
from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import create_engine, text

from tests.e2e.cluster.support import wait_until
from tests.e2e.cluster_admin.conftest import drain

pytestmark = pytest.mark.e2e

V1 = "/api/v1"
ETCD = f"http://127.0.0.1:{os.environ.get('SCS_ETCD_PORT', '12379')}"


def config_path(world: dict[str, Any], project: str = "own") -> str:
    return f"{V1}/projects/{world['projects'][project]}/config"


def consuming_pod(secret: str, config_map: str) -> dict[str, Any]:
    """A pod taking the Secret as env, as a file and as a command argument."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "consumer"},
        "spec": {
            "runtimeClassName": "kata",
            "containers": [
                {
                    "name": "app",
                    "image": "busybox",
                    "command": ["app", "--password=$(DB_PASSWORD)"],
                    "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
                    "env": [
                        {
                            "name": "DB_PASSWORD",
                            "valueFrom": {"secretKeyRef": {"name": secret, "key": "password"}},
                        }
                    ],
                    "envFrom": [{"configMapRef": {"name": config_map}}],
                    "volumeMounts": [
                        {"name": "creds", "mountPath": "/etc/creds", "readOnly": True}
                    ],
                }
            ],
            "volumes": [{"name": "creds", "secret": {"secretName": secret}}],
        },
    }


def database_text(url: str, tables: list[str]) -> str:
    """Every row of the given tables as text."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return "\n".join(
                json.dumps([str(v) for v in row])
                for table in tables
                for row in connection.execute(text(f"SELECT * FROM {table}"))
            )
    finally:
        engine.dispose()


def test_secret_reaches_a_pod_and_its_value_is_in_no_log_event_or_audit_record(
    client, world, core, namespaces, suite_config, bus, logs
):
    value = f"pw-{secrets.token_hex(12)}"
    encoded = base64.b64encode(value.encode()).decode()
    user = world["tokens"]["user"]
    namespace = namespaces.create()

    reply = client.call(
        "POST",
        config_path(world),
        user,
        {
            "namespace": namespace,
            "kind": "Secret",
            "name": "db",
            "data": {"password": value, "user": "app"},
        },
    )
    assert reply.status == 201, reply.body
    assert reply.body["data"] == {"password": "******", "user": "******"}
    made = client.call(
        "POST",
        config_path(world),
        user,
        {"namespace": namespace, "kind": "ConfigMap", "name": "app", "data": {"MODE": "fast"}},
    )
    assert made.status == 201, made.body

    stored = core.read_namespaced_secret("db", namespace)
    assert base64.b64decode(stored.data["password"]).decode() == value
    core.create_namespaced_pod(namespace, consuming_pod("db", "app"))
    wait_until(
        "the consuming pod to run",
        lambda: core.read_namespaced_pod("consumer", namespace).status.phase == "Running",
    )
    spec = core.read_namespaced_pod("consumer", namespace).spec
    container = spec.containers[0]
    assert container.env[0].value_from.secret_key_ref.name == "db"
    assert container.env_from[0].config_map_ref.name == "app"
    assert container.command[1] == "--password=$(DB_PASSWORD)"
    assert [v.secret.secret_name for v in spec.volumes if v.secret] == ["db"]
    assert container.volume_mounts[0].mount_path == "/etc/creds"

    # Change it, then look everywhere the platform writes: logs, bus, outboxes, audit.
    updated = client.call(
        "PUT",
        f"{config_path(world)}/db",
        user,
        {"namespace": namespace, "kind": "Secret", "data": {"password": value + "-2"}},
    )
    assert updated.status == 200, updated.body
    deleted = client.call(
        "DELETE",
        f"{config_path(world)}/db",
        user,
        params={"namespace": namespace, "kind": "Secret"},
    )
    assert deleted.status == 200, deleted.body

    def audited() -> str:
        return database_text(suite_config["AUDIT_DATABASE_URL"], ["audit_records"])

    wait_until("the audit trail of the Secret", lambda: "config.deleted" in audited())
    events = drain(suite_config, bus)
    types = [e["type"] for e in events]
    assert {"config.created", "config.updated", "config.deleted"} <= set(types)
    secret_events = [e for e in events if e["resource"].get("name") == "db"]
    assert all(e["data"]["keys"] for e in secret_events)
    outboxes = "\n".join(
        database_text(suite_config[f"{name}_DATABASE_URL"], ["outbox"])
        for name in ("CONFIG", "CLUSTER", "QUOTA", "NETWORK", "AUTH")
    )
    searched = {
        "log lines": "\n".join(logs.lines),
        "events on the bus": json.dumps(events),
        "outboxes": outboxes,
        "audit records": audited(),
    }
    assert "config.created kind=Secret" in searched["log lines"]
    for where, haystack in searched.items():
        for needle in (value, encoded, value + "-2"):
            assert needle not in haystack, f"a Secret value is in the {where}"


def test_values_are_masked_and_revealed_only_to_project_admins(client, world, namespaces):
    value = f"pw-{secrets.token_hex(8)}"
    namespace = namespaces.create()
    base = config_path(world)
    made = client.call(
        "POST",
        base,
        world["tokens"]["user"],
        {"namespace": namespace, "kind": "Secret", "name": "api", "data": {"token": value}},
    )
    assert made.status == 201, made.body
    query = {"namespace": namespace, "kind": "Secret"}

    shown = client.call("GET", f"{base}/api", world["tokens"]["user"], params=query)
    assert shown.status == 200 and shown.body["data"] == {"token": "******"}
    refused = client.call(
        "GET", f"{base}/api", world["tokens"]["user"], params=query | {"reveal": "true"}
    )
    assert (refused.status, refused.code) == (403, "reveal_forbidden")
    for role in ("project_admin", "department_admin", "cloud_admin"):
        revealed = client.call(
            "GET", f"{base}/api", world["tokens"][role], params=query | {"reveal": "true"}
        )
        assert revealed.status == 200 and revealed.body["data"] == {"token": value}, role
    listed = client.call("GET", base, world["tokens"]["user"], params={"namespace": namespace})
    assert {i["name"]: i["data"] for i in listed.body["items"]}["api"] == {"token": "******"}
    other = client.call("GET", f"{base}/api", world["tokens"]["other_user"], params=query)
    assert other.status == 403


def test_masked_yaml_can_be_edited_without_losing_values(client, world, namespaces):
    value = f"pw-{secrets.token_hex(8)}"
    namespace = namespaces.create()
    base = config_path(world)
    user, admin = world["tokens"]["user"], world["tokens"]["project_admin"]
    client.call(
        "POST",
        base,
        user,
        {"namespace": namespace, "kind": "Secret", "name": "db", "data": {"password": value}},
    )
    query = {"namespace": namespace, "kind": "Secret"}
    document = client.call("GET", f"{base}/db/yaml", user, params=query)
    assert document.status == 200 and value not in document.body["yaml"]
    edited = document.body["yaml"] + "stringData:\n  user: app\n"
    replaced = client.call(
        "PUT", f"{base}/db/yaml", user, {"namespace": namespace, "kind": "Secret", "yaml": edited}
    )
    assert replaced.status == 200, replaced.body
    assert replaced.body["keys"] == ["password", "user"]
    revealed = client.call("GET", f"{base}/db", admin, params=query | {"reveal": "true"})
    assert revealed.body["data"] == {"password": value, "user": "app"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "Service", "name": "x", "data": {}}, "kind"),
        ({"kind": "ConfigMap", "name": "Bad_Name", "data": {}}, "name"),
        ({"kind": "ConfigMap", "name": "x", "data": {"bad key": "v"}}, "data"),
        ({"kind": "ConfigMap", "name": "x", "data": {"k": 1}}, "data"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(client, world, namespaces, body, field):
    namespace = namespaces.create()
    reply = client.call(
        "POST", config_path(world), world["tokens"]["user"], {"namespace": namespace} | body
    )
    assert (reply.status, reply.code) == (400, "validation_failed"), reply.body
    assert field in reply.body["details"]["fields"]


def test_a_namespace_of_another_project_is_refused(client, world, namespaces):
    theirs = namespaces.create(project="other", token_role="cloud_admin")
    reply = client.call(
        "POST",
        config_path(world),
        world["tokens"]["project_admin"],
        {"namespace": theirs, "kind": "ConfigMap", "name": "x", "data": {}},
    )
    assert (reply.status, reply.code) == (403, "namespace_not_in_project")


def test_apply_manifest_and_delete_object_contract(client, world, core, namespaces, suite_config):
    namespace = namespaces.create()
    project = world["projects"]["own"]
    manifest = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "carried"},
        "stringData": {"key": "v1"},
    }
    with ClusterRpcProxy({"AMQP_URI": suite_config["AMQP_URI"]}) as rpc:
        first = rpc.config.apply_manifest(project, namespace, manifest, "u1")
        again = rpc.config.apply_manifest(
            project, namespace, manifest | {"stringData": {"key": "v2"}}, "u1"
        )
        assert first["kind"] == "Secret" and first["name"] == "carried"
        assert (
            first["uid"]
            == again["uid"]
            == core.read_namespaced_secret("carried", namespace).metadata.uid
        )
        with pytest.raises(Exception) as caught:
            rpc.config.apply_manifest(
                project,
                namespace,
                {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}},
                "u1",
            )
        assert type(caught.value).__name__ == "NotOwnedKind"
        assert (
            rpc.config.delete_object(project, namespace, "Secret", "carried", "u1")["deleted"]
            is True
        )
        assert (
            rpc.config.delete_object(project, namespace, "Secret", "carried", "u1")["deleted"]
            is False
        )


def _etcd_value(key: str) -> bytes:
    reply = requests.post(
        f"{ETCD}/v3/kv/range", json={"key": base64.b64encode(key.encode()).decode()}, timeout=10
    )
    reply.raise_for_status()
    [kv] = reply.json()["kvs"]
    return base64.b64decode(kv["value"])


def test_secrets_are_encrypted_at_rest_in_etcd(client, world, core, namespaces):
    value = f"pw-{secrets.token_hex(12)}"
    namespace = namespaces.create()
    for kind, name in (("Secret", "db"), ("ConfigMap", "plain")):
        reply = client.call(
            "POST",
            config_path(world),
            world["tokens"]["user"],
            {"namespace": namespace, "kind": kind, "name": name, "data": {"v": value}},
        )
        assert reply.status == 201, reply.body

    raw = _etcd_value(f"/registry/secrets/{namespace}/db")
    assert raw.startswith(b"k8s:enc:aescbc:v1:"), raw[:40]
    assert value.encode() not in raw and base64.b64encode(value.encode()) not in raw
    # The control: a ConfigMap is stored in the clear, so the read itself is sound.
    assert value.encode() in _etcd_value(f"/registry/configmaps/{namespace}/plain")
