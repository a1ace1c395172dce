"""Nodes, GPUs, config, rates and `logs -f --max-duration` against the stub gateway (faked:
the gateway, an HTTP stub answering canned JSON or an endless text stream; see conftest.py).
Real: argument parsing, requests, rendering, error lines, exit codes and the CLI's clock."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import yaml

from tests.unit.cli.conftest import Endless

NODE = {
    "name": "worker-1",
    "roles": ["worker"],
    "architecture": "amd64",
    "ready": True,
    "unschedulable": True,
    "kata": True,
    "gpu": {"product": "Tesla-T4", "count": 4},
    "capacity": {"cpu": 8000, "memory": 32 * 2**30, "gpu": 4, "pods": 110},
    "allocatable": {"cpu": 7500, "memory": 30 * 2**30, "gpu": 4, "pods": 110},
    "allocated": {"cpu": 1250, "memory": 3 * 2**29, "gpu": 2, "pods": 3},
    "pod_count": 3,
}
DETAIL = {
    **NODE,
    "labels": {"kubernetes.io/arch": "amd64"},
    "taints": [],
    "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "ok"}],
    "node_info": {"kubeletVersion": "v1.30.0"},
    "pods": [{"namespace": "dev", "name": "web-1", "phase": "Running",
              "requests": {"cpu": 500, "memory": 2**28, "gpu": 0, "pods": 1}}],
}  # fmt: skip


def one_line(run: Any) -> bool:
    return run.err.count("\n") == 1 and run.err.startswith("error: ")


# -- nodes ------------------------------------------------------------------------------------


def test_get_nodes_table(scs: Any, stub: Any) -> None:
    stub.on("GET", "/nodes", 200, {"items": [NODE]})
    run = scs("get", "nodes")
    assert run.code == 0, run.err
    header, row = run.out.splitlines()
    assert header.split() == [
        "NAME", "STATUS", "ROLES", "ARCH", "KATA", "GPU", "CPU", "MEMORY", "PODS",
    ]  # fmt: skip
    assert row.split() == [
        "worker-1", "Ready,SchedulingDisabled", "worker", "amd64", "yes", "4xTesla-T4",
        "1250m/7500m", "1.5Gi/30.0Gi", "3/110",
    ]  # fmt: skip


def test_describe_node(scs: Any, stub: Any) -> None:
    stub.on("GET", "/nodes/worker-1", 200, DETAIL)
    run = scs("describe", "node", "worker-1")
    assert run.code == 0, run.err
    assert "Kubelet:" in run.out and "v1.30.0" in run.out
    conditions = run.out.split("Conditions:\n")[1].splitlines()
    assert conditions[1].split()[:3] == ["Ready", "True", "KubeletReady"]
    pods = run.out.split("Pods:\n")[1].splitlines()
    assert pods[1].split() == ["dev", "web-1", "Running", "500m", "256Mi", "0"]
    run = scs("describe", "node", "worker-1", "-o", "json")
    assert json.loads(run.out) == DETAIL


def test_get_node_by_name_and_unknown_node(scs: Any, stub: Any) -> None:
    stub.on("GET", "/nodes/worker-1", 200, DETAIL)
    assert scs("get", "node", "worker-1").out.splitlines()[1].startswith("worker-1 ")
    body = {"code": "object_not_found", "message": "no node worker-9", "details": {}}
    stub.on("GET", "/nodes/worker-9", 404, body)
    run = scs("describe", "no", "worker-9")
    assert (run.code, run.err) == (1, "error: object_not_found: no node worker-9\n")


def test_cordon_and_uncordon(scs: Any, stub: Any) -> None:
    stub.on("POST", "/nodes/worker-1/cordon", 200, DETAIL)
    stub.on("POST", "/nodes/worker-1/uncordon", 200, {**DETAIL, "unschedulable": False})
    run = scs("cordon", "worker-1")
    assert (run.code, run.out) == (0, "node/worker-1 cordoned\n")
    assert stub.requests[-1]["method"] == "POST" and stub.requests[-1]["body"] is None
    run = scs("uncordon", "worker-1", "-o", "yaml")
    assert yaml.safe_load(run.out)["unschedulable"] is False


def test_cordon_refused_to_a_non_admin_exits_4(scs: Any, stub: Any) -> None:
    body = {"code": "forbidden", "message": "cordon on nodes is not permitted", "details": {}}
    stub.on("POST", "/nodes/worker-1/cordon", 403, body)
    run = scs("cordon", "worker-1")
    assert (run.code, run.err) == (4, "error: forbidden: cordon on nodes is not permitted\n")


# -- GPUs -------------------------------------------------------------------------------------


def test_get_gpus_of_the_cluster_and_of_a_project(scs: Any, stub: Any, project: Any) -> None:
    gpu_node = {"node": "gpu-t4-0", "product": "Tesla-T4", "model": "T4", "arch": "amd64",
                "supported": True, "unsupported_reason": None, "capacity": 4,
                "allocatable": 4, "allocated": 1, "free": 3, "unschedulable": False}  # fmt: skip
    model = {"model": "T4", "arch": "amd64", "supported": True, "nodes": 1, "allocatable": 4,
             "allocated": 1, "free": 3, "max_free_on_one_node": 3}  # fmt: skip
    stub.on("GET", "/gpus", 200, {"synced": True, "matrix": {}, "nodes": [gpu_node]})
    stub.on("GET", "/projects/p-1/gpus", 200, {"synced": True, "matrix": {}, "models": [model]})

    run = scs("get", "gpus")
    assert run.out.splitlines()[1].split() == [
        "gpu-t4-0", "Tesla-T4", "T4", "amd64", "yes", "4", "1", "3", "no",
    ]  # fmt: skip
    assert stub.requests[-1]["path"] == "/api/v1/gpus"

    run = scs("get", "gpu", "-p", "vision")
    assert run.out.splitlines()[0].split()[:3] == ["MODEL", "ARCH", "SUPPORTED"]
    assert run.out.splitlines()[1].split() == ["T4", "amd64", "yes", "1", "4", "1", "3", "3"]
    assert stub.requests[-1]["path"] == "/api/v1/projects/p-1/gpus"

    run = scs("get", "gpus", "gpu-a100-0")
    assert (run.code, run.err) == (
        1,
        "error: gpu_node_not_found: no GPU node 'gpu-a100-0' (field: name)\n",
    )


def test_get_gpus_without_p_falls_back_to_the_default_project(
    scs: Any, stub: Any, project: Any
) -> None:
    refused = {"code": "forbidden", "message": "view on gpu is not permitted", "details": {}}
    stub.on("GET", "/gpus", 403, refused)
    run = scs("get", "gpus")
    assert (run.code, run.err) == (
        4,
        "error: forbidden: view on gpu is not permitted;"
        " pass -p PROJECT for the project's GPUs per model\n",
    )

    model = {"model": "T4", "arch": "amd64", "supported": True, "nodes": 1, "allocatable": 4,
             "allocated": 1, "free": 3, "max_free_on_one_node": 3}  # fmt: skip
    stub.on("GET", "/projects/p-1/gpus", 200, {"synced": True, "matrix": {}, "models": [model]})
    assert scs("config", "set-project", "vision").code == 0
    run = scs("get", "gpus", "T4")
    assert run.code == 0, run.err
    assert run.out.splitlines()[1].split() == ["T4", "amd64", "yes", "1", "4", "1", "3", "3"]
    assert stub.requests[-1]["path"] == "/api/v1/projects/p-1/gpus"


# -- config -----------------------------------------------------------------------------------

CONFIGMAP = {"kind": "ConfigMap", "namespace": "dev", "name": "settings", "keys": ["mode"],
             "data": {"mode": "plain-value"}, "binary_data": {}, "revealed": False,
             "created_at": "t"}  # fmt: skip
SECRET = {"kind": "Secret", "namespace": "dev", "name": "db", "keys": ["password", "user"],
          "data": {"password": "******", "user": "******"}, "binary_data": {},
          "revealed": False, "type": "Opaque", "created_at": "t"}  # fmt: skip


def test_get_config_shows_names_and_kinds_never_values(scs: Any, stub: Any, project: Any) -> None:
    stub.on("GET", "/projects/p-1/config", 200, {"items": [CONFIGMAP, SECRET]})
    run = scs("get", "config", "-p", "vision", "-n", "dev")
    assert run.code == 0, run.err
    assert [line.split()[:4] for line in run.out.splitlines()] == [
        ["NAMESPACE", "KIND", "NAME", "TYPE"],
        ["dev", "ConfigMap", "settings", "-"],
        ["dev", "Secret", "db", "Opaque"],
    ]
    assert "plain-value" not in run.out and "******" not in run.out
    assert stub.requests[-1]["query"] == {"namespace": "dev"}

    scs("get", "secrets", "-p", "vision", "-n", "dev")
    assert stub.requests[-1]["query"] == {"namespace": "dev", "kind": "Secret"}
    scs("get", "cm", "settings", "-p", "vision", "-n", "dev")
    assert stub.requests[-1]["query"] == {"namespace": "dev", "kind": "ConfigMap"}


def test_get_config_without_a_namespace_reads_every_namespace_of_the_project(
    scs: Any, stub: Any, project: Any
) -> None:
    namespaces = [{"name": "dev", "ready": True}, {"name": "prod", "ready": True}]
    stub.on("GET", "/projects/p-1/namespaces", 200, {"items": namespaces})
    stub.on("GET", "/projects/p-1/config", 200, {"items": [SECRET]})
    run = scs("get", "config", "-p", "vision", "-o", "json")
    assert run.code == 0, run.err
    asked = [r["query"].get("namespace") for r in stub.requests if r["path"].endswith("/config")]
    assert asked == ["dev", "prod"]
    assert len(json.loads(run.out)["items"]) == 2


def test_get_config_without_a_namespace_for_a_plain_member_is_a_usage_error(
    scs: Any, stub: Any, project: Any
) -> None:
    body = {"code": "forbidden", "message": "view on namespaces is not permitted", "details": {}}
    stub.on("GET", "/projects/p-1/namespaces", 403, body)
    run = scs("get", "config", "-p", "vision")
    assert run.code == 2 and one_line(run)
    assert run.err.startswith("error: no_namespace: no namespace chosen: pass -n NAMESPACE")


def test_reveal_needs_a_structured_output(scs: Any, stub: Any, project: Any) -> None:
    run = scs("get", "secrets", "--reveal", "-p", "vision", "-n", "dev")
    assert (run.code, run.err) == (
        2,
        "error: usage: --reveal needs -o json or -o yaml (field: reveal)\n",
    )
    assert not any(r["path"].endswith("/config") for r in stub.requests)

    stub.on("GET", "/projects/p-1/config", 200, {"items": [SECRET]})
    run = scs("get", "secrets", "--reveal", "-p", "vision", "-n", "dev", "-o", "json")
    assert run.code == 0
    assert stub.requests[-1]["query"] == {"namespace": "dev", "kind": "Secret", "reveal": "true"}


def test_reveal_refused_to_a_plain_member_exits_4(scs: Any, stub: Any, project: Any) -> None:
    body = {"code": "reveal_forbidden", "message": "only the project's admins may reveal",
            "details": {"location": "query", "fields": {"reveal": ["not allowed"]}}}  # fmt: skip
    stub.on("GET", "/projects/p-1/config", 403, body)
    run = scs("get", "config", "--reveal", "-p", "vision", "-n", "dev", "-o", "yaml")
    assert (run.code, run.err) == (
        4,
        "error: reveal_forbidden: only the project's admins may reveal (field: reveal)\n",
    )


# -- rates ------------------------------------------------------------------------------------


def test_get_rates(scs: Any, stub: Any) -> None:
    rates = {"currency": "EUR", "rates": {"gpu_seconds": "0.0005", "cpu_core_seconds": "1E-5"}}
    stub.on("GET", "/billing/rates", 200, rates)
    run = scs("get", "rates")
    assert [line.split() for line in run.out.splitlines()] == [
        ["METRIC", "RATE", "CURRENCY"],
        ["cpu_core_seconds", "1E-5", "EUR"],
        ["gpu_seconds", "0.0005", "EUR"],
    ]
    assert json.loads(scs("get", "rates", "-o", "json").out) == rates
    run = scs("get", "rate", "gpu_seconds")
    assert len(run.out.splitlines()) == 2
    assert scs("get", "rate", "disk_seconds").code == 1


def test_set_rates_sends_the_prices_as_typed(scs: Any, stub: Any) -> None:
    answer = {"currency": "EUR", "rates": {"cpu_core_seconds": "0.00002", "gpu_seconds": "1"}}
    stub.on("PUT", "/billing/rates", 200, answer)
    run = scs("set-rates", "cpu_core_seconds=0.00002", "gpu_seconds.tesla-t4=0.0004")
    assert run.code == 0, run.err
    assert stub.requests[-1]["body"] == {
        "rates": {"cpu_core_seconds": "0.00002", "gpu_seconds.tesla-t4": "0.0004"}
    }
    assert run.out == "rates set: cpu_core_seconds=0.00002, gpu_seconds.tesla-t4=0.0004\n"

    run = scs("set-rates", "cpu_core_seconds:1")
    assert (run.code, run.err) == (
        2,
        "error: usage: 'cpu_core_seconds:1' is not METRIC=VALUE (field: rates)\n",
    )


def test_set_rates_refusals(scs: Any, stub: Any) -> None:
    body = {"code": "invalid_rate", "message": "rate of cpu_core_seconds must be a number >= 0",
            "details": {"fields": {"cpu_core_seconds": ["must be a number >= 0"]}}}  # fmt: skip
    stub.on("PUT", "/billing/rates", 400, body)
    run = scs("set-rates", "cpu_core_seconds=-1")
    assert run.code == 1 and run.err.endswith("(field: cpu_core_seconds)\n") and one_line(run)
    stub.on("PUT", "/billing/rates", 403, {"code": "forbidden", "message": "no", "details": {}})
    assert scs("set-rates", "cpu_core_seconds=1").code == 4


# -- logs -f --max-duration -------------------------------------------------------------------

LOGS = "/projects/p-1/pods/web-1/logs"


def test_follow_stops_after_max_duration_and_exits_0(scs: Any, stub: Any, project: Any) -> None:
    stub.on("GET", LOGS, 200, Endless(b"one\ntwo\n"))  # then silent, never ending
    started = time.monotonic()
    run = scs("logs", "web-1", "-f", "--max-duration", "0.5", "-p", "vision", "-n", "dev")
    elapsed = time.monotonic() - started
    assert (run.code, run.out, run.err) == (0, "one\ntwo\n", "")
    assert 0.5 <= elapsed < 5
    assert stub.requests[-1]["query"] == {"namespace": "dev", "follow": "true", "max_seconds": "1"}


def test_follow_ending_before_max_duration_exits_at_once(
    scs: Any, stub: Any, project: Any
) -> None:
    stub.on("GET", LOGS, 200, b"done\n")
    started = time.monotonic()
    run = scs("logs", "web-1", "-f", "--max-duration", "30", "-p", "vision", "-n", "dev")
    assert (run.code, run.out) == (0, "done\n")
    assert time.monotonic() - started < 10
    assert stub.requests[-1]["query"]["max_seconds"] == "30"


def test_follow_refused_with_max_duration_is_the_api_error(
    scs: Any, stub: Any, project: Any
) -> None:
    stub.on("GET", LOGS, 404, {"code": "pod_not_found", "message": "no pod web-1", "details": {}})
    run = scs("logs", "web-1", "-f", "--max-duration", "5", "-p", "vision", "-n", "dev")
    assert (run.code, run.err) == (1, "error: pod_not_found: no pod web-1\n")


def test_max_duration_beyond_a_day_asks_the_gateway_for_its_largest(
    scs: Any, stub: Any, project: Any
) -> None:
    stub.on("GET", LOGS, 200, b"x\n")
    scs("logs", "web-1", "-f", "--max-duration", "100000", "-p", "vision", "-n", "dev")
    assert stub.requests[-1]["query"]["max_seconds"] == str(24 * 3600)


@pytest.mark.parametrize("value", ["0", "-3", "abc", "nan", "inf"])
def test_non_positive_max_duration_is_a_usage_error(scs: Any, stub: Any, value: str) -> None:
    run = scs("logs", "web-1", "-f", f"--max-duration={value}", "-p", "vision", "-n", "dev")
    assert run.code == 2 and one_line(run)
    assert run.err.startswith("error: usage: argument --max-duration: ")
    assert stub.requests == []


def test_max_duration_without_follow_is_a_usage_error(scs: Any, stub: Any) -> None:
    run = scs("logs", "web-1", "--max-duration", "5", "-p", "vision", "-n", "dev")
    assert (run.code, run.err) == (
        2,
        "error: usage: --max-duration applies to -f only (field: max_duration)\n",
    )
    assert stub.requests == []
