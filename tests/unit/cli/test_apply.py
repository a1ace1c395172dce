"""`scs apply` as `kubectl apply` (faked: the gateway, see conftest.py): what exists is
replaced one document at a time, what is new is created, each line says which."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

WL = "/projects/p-1/workloads"
WEB = {"kind": "Deployment", "name": "web", "namespace": "dev", "replicas": 3,
       "revision": 1, "autoscaling_max": 0}  # fmt: skip
MANIFEST = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec: {template: {spec: {containers: [{name: web, image: "nginx:1.27"}]}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec: {template: {spec: {containers: [{name: api, image: "api:2"}]}}}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {ports: [{port: 80}]}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  maxReplicas: 6
  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization,
             averageUtilization: 60}}}]
"""


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    path = tmp_path / "app.yaml"
    path.write_text(MANIFEST)
    return path


def _created(*names: tuple[str, str, str]) -> dict[str, Any]:
    return {
        "workloads": [{**WEB, "name": n} for k, n, o in names if k == "Deployment"],
        "objects": [{"owner": o, "kind": k, "namespace": "dev", "name": n} for k, n, o in names],
    }


def test_reapply_replaces_existing_workloads_and_creates_new_ones(
    scs: Any, stub: Any, project: Any, manifest: Path
) -> None:
    stub.on("GET", WL, 200, {"items": [{**WEB, "autoscaling_max": 6}], "total": 1})
    service = {"kind": "Service", "name": "web", "namespace": "dev"}
    stub.on("GET", "/projects/p-1/services", 200, {"items": [service]})
    created = _created(("Deployment", "api", "workload"), ("Service", "web", "network"))
    stub.on("POST", WL, 201, created)
    stub.on("PUT", f"{WL}/web/yaml", 200, {**WEB, "revision": 2})
    stub.on("PUT", f"{WL}/web/autoscaling", 200, {**WEB, "revision": 2})
    run = scs("apply", "-f", str(manifest), "-p", "vision", "-n", "dev")
    assert run.code == 0, run.err
    assert run.out.splitlines() == [
        "deployment/api created",
        "service/web configured",
        "deployment/web configured",
        "horizontalpodautoscaler/web configured",
    ]
    sent = {(r["method"], r["path"].removeprefix("/api/v1")): r for r in stub.requests}
    post = sent[("POST", WL)]["body"]
    assert [d["metadata"]["name"] for d in post["manifest"]] == ["api", "web"]
    assert [d["kind"] for d in post["manifest"]] == ["Deployment", "Service"]
    put = sent[("PUT", f"{WL}/web/yaml")]
    assert put["query"] == {"namespace": "dev"}
    assert put["body"]["manifest"]["spec"]["template"]["spec"]["containers"][0]["image"] == (
        "nginx:1.27"
    )
    assert "replicas" not in put["body"]["manifest"]["spec"]  # the API keeps the current count
    assert sent[("PUT", f"{WL}/web/autoscaling")]["body"] == {
        "min_replicas": 1,
        "max_replicas": 6,
        "cpu_utilization": 60,
    }


def test_reapply_with_everything_existing_sends_no_create(
    scs: Any, stub: Any, project: Any, tmp_path: Path
) -> None:
    path = tmp_path / "web.yaml"
    path.write_text(MANIFEST.split("---")[0])
    stub.on("GET", WL, 200, {"items": [WEB], "total": 1})
    stub.on("PUT", f"{WL}/web/yaml", 200, {**WEB, "revision": 2})
    run = scs("apply", "-f", str(path), "-p", "vision", "-n", "dev", "-o", "json")
    assert run.code == 0, run.err
    answer = json.loads(run.out)
    assert answer["workloads"] == [{**WEB, "revision": 2}]
    assert [o["action"] for o in answer["objects"]] == ["configured"]
    assert [r["method"] for r in stub.requests] == ["GET", "GET", "PUT"]


def test_an_hpa_it_cannot_replace_is_skipped_with_a_line(
    scs: Any, stub: Any, project: Any, tmp_path: Path
) -> None:
    hpa = MANIFEST.split("---")[3].replace("name: cpu", "name: requests-per-second")
    path = tmp_path / "hpa.yaml"
    path.write_text(hpa)
    stub.on("GET", WL, 200, {"items": [{**WEB, "autoscaling_max": 6}], "total": 1})
    run = scs("apply", "-f", str(path), "-p", "vision", "-n", "dev")
    assert run.code == 0, run.err
    assert run.out.startswith("horizontalpodautoscaler/web skipped (it exists;")
    assert [r["method"] for r in stub.requests] == ["GET", "GET"]


def test_a_refused_replace_is_one_error_line(
    scs: Any, stub: Any, project: Any, tmp_path: Path
) -> None:
    path = tmp_path / "web.yaml"
    path.write_text(MANIFEST.split("---")[0])
    stub.on("GET", WL, 200, {"items": [WEB], "total": 1})
    refusal = {"code": "quota_exceeded", "message": "cpu", "details": {"field": "cpu"}}
    stub.on("PUT", f"{WL}/web/yaml", 422, refusal)
    run = scs("apply", "-f", str(path), "-p", "vision", "-n", "dev")
    assert (run.code, run.err) == (1, "error: quota_exceeded: cpu (field: cpu)\n")


def test_wait_follows_the_configured_workloads_too(
    scs: Any, stub: Any, project: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cli import rollout

    monkeypatch.setattr(rollout, "POLL_S", 0.01)
    path = tmp_path / "web.yaml"
    path.write_text(MANIFEST.split("---")[0])
    stub.on("GET", WL, 200, {"items": [WEB], "total": 1})
    stub.on("PUT", f"{WL}/web/yaml", 200, {**WEB, "revision": 2})
    done = {**WEB, "rollout": {"state": "complete"}}
    stub.on("GET", f"{WL}/web", 200, done)
    run = scs("apply", "-f", str(path), "-p", "vision", "-n", "dev", "--wait")
    assert run.code == 0, run.err
    assert "deployment/web: complete" in run.err
    assert stub.requests[-1]["path"] == f"/api/v1{WL}/web"
