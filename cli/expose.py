"""`scs expose`: how a workload is reached, its Service and optional Ingress.

`scs expose web --port 80:http --type LoadBalancer --host shop.example.com` sends the whole
network settings (`PUT /projects/<id>/workloads/<name>/network`); `--type None` removes the
Service and the Ingress. The workload service checks everything (ports its containers declare,
host names, a Service of that name it did not make); its refusals are the usual error line.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from cli import names
from cli.client import api_path
from cli.context import Context
from cli.errors import EXIT_USAGE, CliError
from cli.render import structured

logger = logging.getLogger(__name__)

PORT = re.compile(
    r"^(?P<port>\d{1,5})"
    r"(?::(?P<target>[0-9]{1,5}|[a-z0-9-]{1,15}))?"
    r"(?:/(?P<proto>[a-z]+))?$",
    re.IGNORECASE,
)
PROTOCOLS = ("TCP", "UDP", "SCTP")


def _usage(message: str, field: str) -> CliError:
    return CliError(EXIT_USAGE, "usage", message, field)


def parse_port(text: str) -> dict[str, Any]:
    """`80`, `80:8080`, `80:http`, `53/udp` -> {"port", "target_port"?, "protocol"}."""
    match = PORT.match(text)
    protocol = (match.group("proto") or "TCP").upper() if match else ""
    if match is None or protocol not in PROTOCOLS:
        raise _usage(
            f"--port {text}: PORT[:TARGET][/PROTOCOL], e.g. 80, 80:8080, 80:http or 53/UDP",
            "port",
        )
    entry: dict[str, Any] = {"port": int(match.group("port")), "protocol": protocol}
    target = match.group("target")
    if target:
        entry["target_port"] = int(target) if target.isdigit() else target.lower()
    return entry


def settings_from(args: Any) -> dict[str, Any]:
    """The request body from the command line (usage errors before anything is sent)."""
    if args.type == "None":
        if args.port or args.host or args.path:
            raise _usage("--type None removes the Service and Ingress: no --port/--host", "type")
        return {"service": None, "ingress": None}
    if not args.port:
        raise _usage("name at least one --port (or --type None to remove)", "port")
    ports = [parse_port(text) for text in args.port]
    if len(ports) > 1:
        # The API wants every port of a multi-port Service named.
        for port in ports:
            port["name"] = f"{port['protocol'].lower()}-{port['port']}"
    body: dict[str, Any] = {"service": {"type": args.type, "ports": ports}, "ingress": None}
    if args.path and not args.host:
        raise _usage("--path needs --host", "path")
    if args.host:
        tcp = [p["port"] for p in ports if p["protocol"] == "TCP"]
        if not tcp:
            raise _usage("--host needs a TCP --port for the Ingress", "host")
        body["ingress"] = {"host": args.host, "path": args.path or "/", "port": tcp[0]}
    return body


def summary(answer: dict[str, Any]) -> list[str]:
    """One line for the Service, one for the Ingress, one per object left unmanaged."""
    name, service, ingress = answer["workload"], answer["service"], answer["ingress"]
    lines = []
    if service is None:
        lines.append(f"workload/{name}: no Service")
    else:
        ports = ", ".join(
            f"{p['port']}:{p['target_port']}/{p['protocol']}"
            + (f" (node port {p['node_port']})" if p.get("node_port") else "")
            for p in service["ports"]
        )
        line = f"service/{service['name']} {service['type']} {service['cluster_ip']} {ports}"
        lb = service.get("load_balancer")
        if lb:
            line += f"; load balancer {lb.get('address') or '<pending>'} ({lb.get('state')})"
        lines.append(line)
    if ingress is not None:
        lines.append(
            f"ingress/{ingress['name']} http://{ingress['host']}{ingress['path']}"
            f" -> port {ingress['port']}"
        )
    for kind in answer.get("unmanaged") or []:
        lines.append(f"note: a {kind} named {name} exists that these settings did not make")
    return lines


def expose(ctx: Context) -> int:
    name = names.subdomain(str(ctx.args.name), "workload", "name")
    body = settings_from(ctx.args)
    project, namespace = ctx.project(), str(ctx.namespace())
    answer = ctx.gateway.call(
        "PUT",
        api_path("projects", project, "workloads", name, "network"),
        body,
        {"namespace": namespace},
    )
    logger.info("network settings of %s/%s set", namespace, name)
    if ctx.output != "table":
        ctx.print(structured(answer, ctx.output))
        return 0
    for line in summary(answer):
        ctx.print(line)
    return 0
