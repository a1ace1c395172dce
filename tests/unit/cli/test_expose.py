"""`scs expose` against the stub gateway (faked: the gateway; see conftest.py): the body it
sends for each command line, what it prints, and its usage errors (nothing sent then)."""

from __future__ import annotations

import json
from typing import Any

import pytest

NETWORK = "/projects/p-1/workloads/web/network"
ANSWER = {
    "namespace": "dev",
    "workload": "web",
    "kind": "Deployment",
    "service": {
        "name": "web",
        "type": "LoadBalancer",
        "cluster_ip": "10.96.0.12",
        "selector": {"scs.io/workload": "web"},
        "ports": [
            {
                "name": None,
                "port": 80,
                "target_port": "http",
                "protocol": "TCP",
                "node_port": 31080,
            }
        ],
        "load_balancer": {"state": "allocated", "address": "198.51.100.60", "reason": None},
    },
    "ingress": {"name": "web", "host": "shop.example.com", "path": "/", "port": 80},
    "unmanaged": [],
}


def test_load_balancer_with_a_host(scs: Any, stub: Any, project: Any) -> None:
    stub.on("PUT", NETWORK, 200, ANSWER)
    run = scs(
        "expose", "web", "--port", "80:http", "--type", "LoadBalancer",
        "--host", "shop.example.com", "-p", "vision", "-n", "dev",
    )  # fmt: skip
    assert run.code == 0, run.err
    sent = stub.requests[-1]
    assert sent["method"] == "PUT" and sent["query"] == {"namespace": "dev"}
    assert sent["body"] == {
        "service": {
            "type": "LoadBalancer",
            "ports": [{"port": 80, "protocol": "TCP", "target_port": "http"}],
        },
        "ingress": {"host": "shop.example.com", "path": "/", "port": 80},
    }
    assert run.out.splitlines() == [
        "service/web LoadBalancer 10.96.0.12 80:http/TCP (node port 31080);"
        " load balancer 198.51.100.60 (allocated)",
        "ingress/web http://shop.example.com/ -> port 80",
    ]


def test_several_ports_are_named_and_the_ingress_takes_the_first_tcp_one(
    scs: Any, stub: Any, project: Any
) -> None:
    stub.on("PUT", NETWORK, 200, {**ANSWER, "ingress": None})
    run = scs(
        "expose", "web", "--port", "53/udp", "--port", "8080:9000", "--host", "a.example.com",
        "--path", "/api", "-p", "vision", "-n", "dev", "-o", "json",
    )  # fmt: skip
    assert run.code == 0, run.err
    assert stub.requests[-1]["body"] == {
        "service": {
            "type": "ClusterIP",
            "ports": [
                {"port": 53, "protocol": "UDP", "name": "udp-53"},
                {"port": 8080, "protocol": "TCP", "target_port": 9000, "name": "tcp-8080"},
            ],
        },
        "ingress": {"host": "a.example.com", "path": "/api", "port": 8080},
    }
    assert json.loads(run.out)["workload"] == "web"


def test_type_none_removes_the_settings(scs: Any, stub: Any, project: Any) -> None:
    removed = {**ANSWER, "service": None, "ingress": None, "unmanaged": ["Service"]}
    stub.on("PUT", NETWORK, 200, removed)
    run = scs("expose", "web", "--type", "None", "-p", "vision", "-n", "dev")
    assert run.code == 0, run.err
    assert stub.requests[-1]["body"] == {"service": None, "ingress": None}
    assert run.out.splitlines() == [
        "workload/web: no Service",
        "note: a Service named web exists that these settings did not make",
    ]


@pytest.mark.parametrize(
    "argv",
    [
        ("expose", "web"),
        ("expose", "web", "--port", "http"),
        ("expose", "web", "--port", "80:"),
        ("expose", "web", "--port", "80/icmp"),
        ("expose", "web", "--port", "80", "--path", "/shop"),
        ("expose", "web", "--port", "53/udp", "--host", "a.example.com"),
        ("expose", "web", "--type", "None", "--port", "80"),
        ("expose", "web", "--port", "80", "--type", "ExternalName"),
    ],
)
def test_usage_errors_send_nothing(scs: Any, stub: Any, project: Any, argv: tuple) -> None:
    run = scs(*argv, "-p", "vision", "-n", "dev")
    assert run.code == 2, (argv, run.err)
    assert run.err.startswith("error: ") and run.err.count("\n") == 1, run.err
    assert [r for r in stub.requests if r["method"] == "PUT"] == []


def test_a_refusal_names_the_field(scs: Any, stub: Any, project: Any) -> None:
    refusal = {
        "code": "network_object_exists",
        "message": "service: a Service named web exists in dev and was not made by these settings",
        "details": {"field": "service"},
    }
    stub.on("PUT", NETWORK, 409, refusal)
    run = scs("expose", "web", "--port", "80", "-p", "vision", "-n", "dev")
    assert run.code == 1
    assert run.err.startswith("error: network_object_exists: service: a Service")
    assert "(field: service)" in run.err
