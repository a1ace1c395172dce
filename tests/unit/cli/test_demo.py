"""`scs demo` against the stub gateway (faked: the gateway; see conftest.py): where the admin
credentials come from, and that each way the demo can fail is one line and an exit code.
The demo's whole run against the real suite is tests/e2e/cli/test_demo.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cli import demo
from cli.errors import CliError

LOGIN = {"token": "t", "token_id": "i", "expires_at": "2027-01-01T00:00:00+00:00"}


@pytest.fixture(autouse=True)
def no_admin_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("SCS_ADMIN_USERNAME", "SCS_ADMIN_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SCS_STATE_DIR", str(tmp_path / "state"))


def test_admin_credentials_from_the_environment_or_make_runs_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "admin-credentials").write_text("username=root-admin\npassword=s3=cret\n")
    assert demo.admin_credentials(None) == ("root-admin", "s3=cret")

    monkeypatch.setenv("SCS_ADMIN_PASSWORD", "from-env")
    assert demo.admin_credentials(None) == ("admin", "from-env")
    # an explicit file wins over the environment
    assert demo.admin_credentials(str(state / "admin-credentials"))[0] == "root-admin"


def test_a_file_without_both_lines_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "creds"
    source.write_text("username=admin\n")
    with pytest.raises(CliError) as refused:
        demo.admin_credentials(str(source))
    assert (refused.value.code, refused.value.exit_code) == ("no_admin_credentials", 2)


def test_no_credentials_is_one_line_and_exit_2(scs: Any, stub: Any, tmp_path: Path) -> None:
    result = scs("demo", "--admin-credentials", str(tmp_path / "absent"), token=None)
    assert result.code == 2
    assert result.err.startswith("error: no_admin_credentials: cannot read ")
    assert result.err.count("\n") == 1
    assert stub.requests == []  # nothing was asked of the gateway


def test_a_suite_that_never_gets_ready_is_exit_5(
    scs: Any, stub: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCS_ADMIN_PASSWORD", "pw")
    stub.answers[("GET", "/readyz")] = (503, {"status": "unavailable"})
    result = scs("demo", "--timeout", "1", token=None)
    assert result.code == 5
    assert result.err.startswith("error: suite_not_ready: every service ready (GET /readyz)")
    assert "is `make run` running?" in result.err and result.err.count("\n") == 1


def test_a_wrong_admin_password_is_exit_3(scs: Any, stub: Any, tmp_path: Path) -> None:
    creds = tmp_path / "creds"
    creds.write_text("username=admin\npassword=wrong\n")
    stub.answers[("GET", "/readyz")] = (200, {"status": "ok"})
    stub.on("POST", "/auth/login", 401, {"code": "invalid_credentials", "message": "no"})
    result = scs("demo", "--admin-credentials", str(creds), token=None)
    assert (result.code, result.err) == (3, "error: invalid_credentials: no\n")


def test_a_refused_manifest_stops_the_demo_with_the_apis_error(
    scs: Any, stub: Any, tmp_path: Path
) -> None:
    creds = tmp_path / "creds"
    creds.write_text("username=admin\npassword=pw\n")
    stub.answers[("GET", "/readyz")] = (200, {"status": "ok"})
    stub.on("POST", "/auth/login", 200, LOGIN)
    stub.on("POST", "/departments", 201, {"id": "d1", "name": "retail-t1"})
    stub.on("POST", "/projects", 201, {"id": "p1", "name": "shop-t1"})
    stub.on("PUT", "/projects/p1/quota", 200, {"limits": {}})
    stub.on("POST", "/projects/p1/namespaces", 201, {"name": "shop-t1", "ready": False})
    stub.on("GET", "/projects/p1/namespaces/shop-t1", 200, {"name": "shop-t1", "ready": True})
    stub.on("POST", "/users", 201, {"id": "u1", "username": "t1-lead"})
    stub.on("POST", "/projects/p1/members", 201, {"user_id": "u1", "role": "user"})
    refusal = {
        "code": "quota_exceeded",
        "message": "cpu: 6100m over the limit",
        "details": {"field": "cpu"},
    }
    stub.on("POST", "/projects/p1/workloads", 422, refusal)

    result = scs("demo", "--admin-credentials", str(creds), "--tag", "t1", token=None)

    assert result.code == 1
    assert result.err == "error: quota_exceeded: cpu: 6100m over the limit (field: cpu)\n"
    assert "created project shop-t1" in result.out  # the timeline up to the refusal
    posted = [r for r in stub.requests if r["path"] == "/api/v1/projects/p1/workloads"]
    assert posted[0]["body"]["namespace"] == "shop-t1"
    assert "kind: Deployment" in posted[0]["body"]["manifest"]  # examples/web-app.yaml's text
    quota = [r for r in stub.requests if r["path"] == "/api/v1/projects/p1/quota"][0]
    assert quota["body"]["limits"]["cpu"] == "12"


def test_every_example_manifest_parses_and_names_what_the_demo_follows() -> None:
    import yaml

    kinds: dict[str, str] = {}
    for name, _ in demo.MANIFESTS:
        for doc in yaml.safe_load_all((demo.EXAMPLES / name).read_text()):
            kinds[doc["metadata"]["name"] + "/" + doc["kind"]] = name
    assert f"{demo.WEB}/Service" in kinds and f"{demo.AUTOSCALED}/HorizontalPodAutoscaler" in kinds
    assert "recommender-training/Job" in kinds and "orders-db/StatefulSet" in kinds
