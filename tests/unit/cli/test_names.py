"""Names in request paths (faked: the gateway, see conftest.py): what cannot be a Kubernetes
name is refused before any request, and every path segment is percent-encoded whole."""

from __future__ import annotations

from typing import Any

import pytest

from cli.client import api_path


@pytest.mark.parametrize(
    ("argv", "field"),
    [
        (("describe", "workload", "../../users"), "name"),
        (("describe", "workload", "a?namespace=shop-e3b4"), "name"),
        (("get", "workload", "storefront#x"), "name"),
        (("delete", "svc", "Web"), "name"),
        (("delete", "namespace", "a.b"), "name"),
        (("describe", "node", "gpu/../x"), "name"),
        (("logs", "x/../../../users"), "pod"),
        (("exec", "web%2F1", "-p", "p-1", "-n", "dev", "--", "sh"), "pod"),
        (("scale", "web/..", "--replicas", "1"), "name"),
        (("expose", "web_1", "--port", "80"), "name"),
        (("cordon", "node_1"), "node"),
        (("get", "workloads", "-p", "p-1", "-n", "dev/../x"), "namespace"),
        (("config", "set-namespace", "Dev"), "namespace"),
    ],
)
def test_a_name_that_is_no_kubernetes_name_is_a_usage_error_before_any_request(
    scs: Any, stub: Any, argv: tuple[str, ...], field: str
) -> None:
    options = () if "-n" in argv else ("-p", "p-1", "-n", "dev")
    run = scs(*argv, *options)
    assert run.code == 2, run.err
    assert run.err.startswith("error: usage: ") and run.err.count("\n") == 1, run.err
    assert run.err.endswith(f"(field: {field})\n"), run.err
    assert stub.requests == []


def test_ingress_names_may_have_dots_service_names_may_not(
    scs: Any, stub: Any, project: Any
) -> None:
    stub.on("DELETE", "/projects/p-1/services/shop.example", 200, {"deleted": True})
    run = scs("delete", "svc", "shop.example", "--kind", "Ingress", "-p", "vision", "-n", "dev")
    assert (run.code, run.out) == (0, "service/shop.example deleted\n"), run.err
    assert scs("delete", "svc", "shop.example", "-p", "vision", "-n", "dev").code == 2


def test_path_segments_are_encoded_whole() -> None:
    assert api_path("projects", "p 1", "workloads", "a/b?c#d%") == (
        "/projects/p%201/workloads/a%2Fb%3Fc%23d%25"
    )


def test_an_id_from_the_api_is_encoded_on_the_wire(scs: Any, stub: Any) -> None:
    odd = {"id": "p/../1", "name": "odd", "department_id": "d-1"}
    stub.on("GET", "/projects", 200, {"items": [odd], "total": 1})
    stub.on("GET", "/projects/p%2F..%2F1/quota", 200, {"project_id": "p/../1", "resources": {}})
    run = scs("get", "quota", "-p", "odd", "-o", "json")
    assert run.code == 0, run.err
    assert stub.requests[-1]["path"] == "/api/v1/projects/p%2F..%2F1/quota"
