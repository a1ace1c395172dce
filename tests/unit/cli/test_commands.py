"""Commands against the stub gateway (faked: the gateway; see conftest.py): what is sent,
what is printed, and the exit code of every error path."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml

from cli.parser import build_parser

WL = "/projects/p-1/workloads"
RECORD = {
    "kind": "Deployment",
    "name": "web",
    "namespace": "dev",
    "replicas": 2,
    "stopped": False,
    "revision": 1,
    "created_at": "2026-12-04T20:00:00+00:00",
}


def test_usage_errors_are_one_line_and_exit_2(scs: Any) -> None:
    for argv in (("get",), ("scale", "web"), ("bogus",), ("get", "pods", "-o", "xml")):
        run = scs(*argv)
        assert run.code == 2, argv
        assert run.err.count("\n") == 1 and run.err.startswith("error: usage: "), run.err


def test_options_before_or_after_the_command() -> None:
    parser = build_parser()
    before = parser.parse_args(["-o", "json", "-n", "dev", "get", "pods"])
    after = parser.parse_args(["get", "pods", "-o", "json", "-n", "dev"])
    assert (before.output, before.namespace) == (after.output, after.namespace) == ("json", "dev")


def test_unknown_kind_is_a_usage_error(scs: Any) -> None:
    run = scs("get", "gadgets", "-p", "vision")
    assert run.code == 2
    assert run.err.startswith("error: unknown_kind: unknown kind 'gadgets'")


def test_not_logged_in_exits_3_before_any_request(scs: Any, stub: Any) -> None:
    run = scs("get", "workloads", "-p", "vision", token=None)
    assert run.code == 3
    assert run.err == "error: not_logged_in: not logged in: run `scs login` first\n"
    assert stub.requests == []


def test_login_stores_the_token_0600(scs: Any, stub: Any, config_dir: Path) -> None:
    stub.on("POST", "/auth/login", 201, {"token": "secret-token", "expires_at": "x"})
    run = scs("login", "-u", "ana", "--password", "pw-1", token=None)
    assert run.code == 0, run.err
    assert stub.requests[0]["body"] == {"username": "ana", "password": "pw-1"}
    assert stub.requests[0]["auth"] is None
    path = config_dir / "credentials"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["token"] == "secret-token"
    assert "secret-token" not in run.out + run.err


def test_stored_token_is_sent(scs: Any, stub: Any, project: Any) -> None:
    stub.on("POST", "/auth/login", 201, {"token": "stored-1"})
    scs("login", "-u", "ana", "--password", "pw", token=None)
    stub.on("GET", WL, 200, {"items": [RECORD], "total": 1})
    run = scs("get", "workloads", "-p", "vision", token=None)
    assert run.code == 0, run.err
    assert stub.requests[-1]["auth"] == "Bearer stored-1"


def test_a_locked_login_says_when_to_retry(scs: Any, stub: Any, config_dir: Path) -> None:
    locked = {
        "code": "too_many_attempts",
        "message": "too many failed logins for this username",
        "details": {"field": "username", "retry_after_seconds": 42},
    }
    stub.on("POST", "/auth/login", 429, locked)
    run = scs("login", "-u", "ana", "--password", "pw", token=None)
    assert run.code == 1
    assert run.err == (
        "error: too_many_attempts: too many failed logins for this username "
        "(retry after 42s) (field: username)\n"
    )
    assert not (config_dir / "credentials").exists()


def test_wrong_password_exits_3(scs: Any, stub: Any) -> None:
    stub.on(
        "POST", "/auth/login", 401, {"code": "unauthenticated", "message": "bad", "details": {}}
    )
    run = scs("login", "-u", "ana", "--password", "nope", token=None)
    assert (run.code, run.err) == (3, "error: unauthenticated: bad\n")


def test_get_workloads_table_resolving_the_project_by_name(
    scs: Any, stub: Any, project: Any
) -> None:
    stub.on("GET", WL, 200, {"items": [RECORD], "total": 1})
    run = scs("get", "workloads", "-p", "vision", "-n", "dev")
    assert run.code == 0, run.err
    assert run.out.splitlines()[0].split() == [
        "NAMESPACE", "KIND", "NAME", "REPLICAS", "STOPPED", "REVISION", "CREATED",
    ]  # fmt: skip
    assert run.out.splitlines()[1].split()[:4] == ["dev", "Deployment", "web", "2"]
    assert stub.requests[-1]["query"] == {"namespace": "dev"}


def test_project_by_id_and_from_config(scs: Any, stub: Any, project: Any) -> None:
    stub.on("GET", "/projects/p-1/quota", 200, {"project_id": "p-1", "resources": {}})
    assert scs("config", "set-project", "p-1").code == 0
    run = scs("get", "quota", "-o", "json")
    assert run.code == 0, run.err
    assert json.loads(run.out) == {"project_id": "p-1", "resources": {}}


def test_unknown_project_exits_1(scs: Any, project: Any) -> None:
    run = scs("get", "workloads", "-p", "nowhere")
    assert run.code == 1
    assert run.err == (
        "error: project_not_found: no project 'nowhere' among the projects you can see"
        " (field: project)\n"
    )


def test_quota_table(scs: Any, stub: Any, project: Any) -> None:
    resources = {"cpu": {"limit": 4000, "requested": 500, "overhead": 250, "used": 750,
                         "reserved": 0}}  # fmt: skip
    stub.on("GET", "/projects/p-1/quota", 200, {"project_id": "p-1", "resources": resources})
    run = scs("get", "quota", "-p", "vision")
    assert run.out.splitlines()[1].split() == ["cpu", "4000", "500", "250", "750", "0"]


def test_get_pods_walks_the_workloads(scs: Any, stub: Any, project: Any) -> None:
    stub.on("GET", WL, 200, {"items": [RECORD], "total": 1})
    pod = {"name": "web-1", "phase": "Running", "ready": True, "restarts": 0, "node": "n1"}
    stub.on("GET", f"{WL}/web/pods", 200, {"items": [pod]})
    run = scs("get", "pods", "-p", "vision", "-o", "yaml")
    assert yaml.safe_load(run.out)["items"] == [{**pod, "namespace": "dev", "workload": "web"}]
    assert stub.requests[-1]["query"] == {"namespace": "dev"}


def test_apply_sends_the_text_and_the_documents_namespace(
    scs: Any, stub: Any, project: Any, tmp_path: Path
) -> None:
    manifest = tmp_path / "app.yaml"
    manifest.write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: dev}\n---\n"
        "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: dev}\n"
    )
    objects = [
        {"owner": "workload", "kind": "Deployment", "namespace": "dev", "name": "web"},
        {"owner": "network", "kind": "Service", "namespace": "dev", "name": "web"},
    ]
    stub.on("GET", WL, 200, {"items": [], "total": 0})
    stub.on("GET", "/projects/p-1/services", 200, {"items": []})
    stub.on("POST", WL, 201, {"workloads": [RECORD], "objects": objects})
    run = scs("apply", "-f", str(manifest), "-p", "vision")
    assert run.code == 0, run.err
    assert run.out == "deployment/web created\nservice/web created\n"
    assert stub.requests[-1]["body"] == {"namespace": "dev", "manifest": manifest.read_text()}


def test_apply_bad_yaml_exits_1_naming_the_line(scs: Any, stub: Any, tmp_path: Path) -> None:
    manifest = tmp_path / "bad.yaml"
    manifest.write_text("kind: Deployment\nmetadata:\n  name: [web\n")
    run = scs("apply", "-f", str(manifest), "-p", "vision", "-n", "dev")
    assert run.code == 1
    assert run.err.startswith(f"error: invalid_yaml: {manifest} at line 4")
    assert run.err.endswith("(field: file)\n") and run.err.count("\n") == 1
    assert stub.requests == []


def test_apply_missing_file_is_a_usage_error(scs: Any) -> None:
    run = scs("apply", "-f", "/nonexistent/x.yaml", "-p", "vision", "-n", "dev")
    assert run.code == 2
    assert run.err.startswith("error: unreadable_file: cannot read /nonexistent/x.yaml")


@pytest.mark.parametrize(
    ("status", "code", "exit_code"),
    [
        (403, "forbidden", 4),
        (422, "quota_exceeded", 1),
        (404, "workload_not_found", 1),
        (503, "owner_unavailable", 5),
    ],
)
def test_api_refusals_map_to_exit_codes(
    scs: Any, stub: Any, project: Any, status: int, code: str, exit_code: int
) -> None:
    body = {"code": code, "message": "refused", "details": {"field": "replicas"}}
    stub.on("PUT", f"{WL}/web/scale", status, body)
    run = scs("scale", "web", "--replicas", "9", "-p", "vision", "-n", "dev")
    assert run.code == exit_code
    assert run.err.startswith(f"error: {code}: refused") and "(field: replicas)" in run.err
    assert stub.requests[-1]["body"] == {"replicas": 9}


def test_unreachable_gateway_exits_5(scs: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from cli.__main__ import main

    monkeypatch.setenv("SCS_TOKEN", "t")
    assert main(["--server", "http://127.0.0.1:9", "get", "projects"]) == 5


def test_scale_wait_prints_progress_until_complete(
    scs: Any, stub: Any, project: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cli import rollout

    monkeypatch.setattr(rollout, "POLL_S", 0.01)
    stub.on("PUT", f"{WL}/web/scale", 200, RECORD)
    done = {**RECORD, "rollout": {"state": "complete", "replicas": 2, "availableReplicas": 2}}
    stub.on("GET", f"{WL}/web", 200, done)
    run = scs("scale", "web", "--replicas", "2", "--wait", "-p", "vision", "-n", "dev")
    assert run.code == 0, run.err
    assert "deployment/web: complete (replicas 2, availableReplicas 2)" in run.err


def test_wait_on_a_failed_rollout_exits_1(scs: Any, stub: Any, project: Any) -> None:
    stub.on("POST", f"{WL}/web/rollback", 200, RECORD)
    failed = {**RECORD, "rollout": {"state": "failed", "message": "deadline exceeded"}}
    stub.on("GET", f"{WL}/web", 200, failed)
    run = scs("rollback", "web", "--wait", "-p", "vision", "-n", "dev")
    assert run.code == 1
    assert run.err.splitlines()[-1] == (
        "error: rollout_failed: deployment/web: failed: deadline exceeded"
    )


STUCK = {**RECORD, "rollout": {"state": "stuck", "reason": "FailedCreate", "replicas": 2,
         "message": 'serviceaccount "builder" not found'}}  # fmt: skip


def test_wait_on_a_rollout_stuck_past_the_grace_exits_1(
    scs: Any, stub: Any, project: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cli import rollout

    monkeypatch.setattr(rollout, "POLL_S", 0.01)
    monkeypatch.setattr(rollout, "STUCK_GRACE_S", 0.05)
    stub.on("POST", f"{WL}/web/start", 200, RECORD)
    stub.on("GET", f"{WL}/web", 200, STUCK)
    run = scs("start", "web", "--wait", "-p", "vision", "-n", "dev")
    assert run.code == 1
    assert run.err.splitlines()[-1] == (
        'error: rollout_stuck: deployment/web: FailedCreate: serviceaccount "builder" not found'
    )
    assert run.err.count("error:") == 1


def test_a_stuck_rollout_within_the_grace_is_still_waited_for(
    scs: Any, stub: Any, project: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cli import rollout

    monkeypatch.setattr(rollout, "POLL_S", 0.01)
    stub.on("POST", f"{WL}/web/start", 200, RECORD)
    stub.on("GET", f"{WL}/web", 200, STUCK)
    run = scs("start", "web", "--wait", "--timeout", "0.2", "-p", "vision", "-n", "dev")
    assert run.code == 5
    assert run.err.splitlines()[-1] == "error: wait_timeout: rollout not complete after 0s"


def test_delete_service_names_its_kind(scs: Any, stub: Any, project: Any) -> None:
    stub.on("DELETE", "/projects/p-1/services/web", 200, {"deleted": True})
    run = scs("delete", "svc", "web", "-p", "vision", "-n", "dev")
    assert (run.code, run.out) == (0, "service/web deleted\n")
    assert stub.requests[-1]["query"] == {"namespace": "dev", "kind": "Service"}


@pytest.mark.parametrize(("kind", "code"), [("Service", "service"), ("Ingress", "ingress")])
def test_delete_of_a_missing_service_or_ingress_is_not_found(
    scs: Any, stub: Any, project: Any, kind: str, code: str
) -> None:
    gone = {"kind": kind, "namespace": "dev", "name": "nosuch", "deleted": False}
    stub.on("DELETE", "/projects/p-1/services/nosuch", 200, gone)
    run = scs("delete", "svc", "nosuch", "--kind", kind, "-p", "vision", "-n", "dev")
    assert (run.code, run.out) == (1, "")
    assert run.err == (
        f"error: {code}_not_found: no {kind} 'nosuch' in namespace dev (field: name)\n"
    )


def test_logs_tail(scs: Any, stub: Any, project: Any) -> None:
    stub.on("GET", "/projects/p-1/pods/web-1/logs", 200, {"lines": ["one", "two"]})
    run = scs("logs", "web-1", "--tail", "2", "-p", "vision", "-n", "dev")
    assert (run.code, run.out) == (0, "one\ntwo\n")
    assert stub.requests[-1]["query"] == {"namespace": "dev", "tail_lines": "2"}


def test_audit_filters_and_usage(scs: Any, stub: Any, project: Any) -> None:
    record = {"occurred_at": "t", "type": "workload.created", "actor": "u", "outcome": "success",
              "resource": {"kind": "Deployment", "namespace": "dev", "name": "web"}}  # fmt: skip
    stub.on("GET", "/projects/p-1/audit", 200, {"items": [record], "total": 1})
    run = scs("audit", "--type", "workload.created", "-p", "vision")
    assert run.code == 0 and "workload.created" in run.out
    assert stub.requests[-1]["query"] == {"type": "workload.created", "limit": "50"}
    stub.on("GET", "/projects/p-1/billing/usage", 200, {"cpu_core_seconds": {"requested": 1.5}})
    run = scs("usage", "-p", "vision")
    assert run.out.splitlines()[1].split() == ["cpu_core_seconds", "requested", "1.5"]


def test_logs_follow_writes_the_stream_as_it_comes(scs: Any, stub: Any, project: Any) -> None:
    stub.on("GET", "/projects/p-1/pods/web-1/logs", 200, b"one\ntwo\n")
    run = scs("logs", "web-1", "-f", "-p", "vision", "-n", "dev")
    assert (run.code, run.out) == (0, "one\ntwo\n")
    assert stub.requests[-1]["query"] == {"namespace": "dev", "follow": "true"}


def test_logs_follow_refused_before_the_stream(scs: Any, stub: Any, project: Any) -> None:
    body = {"code": "pod_not_found", "message": "no pod web-9", "details": {}}
    stub.on("GET", "/projects/p-1/pods/web-9/logs", 404, body)
    run = scs("logs", "web-9", "-f", "-p", "vision", "-n", "dev")
    assert (run.code, run.err) == (1, "error: pod_not_found: no pod web-9\n")
