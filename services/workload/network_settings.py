"""A workload's network settings: the Service (and Ingress) through which it is reached.

The settings live in the cluster, not in this service's database: a Service named after the
workload, labelled `scs.io/workload=<name>`, selecting the workload's pods by that label (the
platform puts it on every pod template), and optionally an Ingress of the same name and label
sending one host and path to one of the Service's ports. Both objects belong to the network
service and are read and written only through its RPC contract (`get_object`,
`apply_manifest`, `delete_object`), so its checks (project namespace, Ingress host owners) and
its load-balancer controller apply as to any other Service. Both carry an ownerReference to the
workload object, so the cluster's garbage collector removes them with the workload.

A Service or Ingress of that name without the workload's label (made in the network area or
as a companion in a YAML stream) is never replaced or deleted here: a change that would touch
it is refused with 409 `network_object_exists` naming `service` or `ingress`.

A change is applied in an order that leaves a valid state at each step, and undone when a
later step is refused, so a refusal leaves the settings as they were.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from nameko.exceptions import UnknownService

from services.workload.deps import Deps
from services.workload.exceptions import (
    InvalidOperation,
    NetworkNameTaken,
    OwnerUnavailable,
    TargetPortNotDeclared,
)
from services.workload.lifecycle import load_row, save
from services.workload.manifests import dig, pod_spec, pod_template_path
from services.workload.models import Workload
from services.workload.tenancy import MANAGED_LABEL, WORKLOAD_LABEL, require_project_namespace
from shared.errors import ScsError

logger = logging.getLogger(__name__)

KINDS = ("Service", "Ingress")
FIELD_OF = {"Service": "service", "Ingress": "ingress"}
API_VERSIONS = {"Service": "v1", "Ingress": "networking.k8s.io/v1"}
SERVER_FIELDS = ("resourceVersion", "uid", "creationTimestamp", "managedFields", "generation")
NOT_FOUND = "network_object_not_found"

Objects = dict[str, dict[str, Any] | None]  # kind -> the network service's get_object answer


def settings_of(deps: Deps, project_id: str, namespace: str, name: str) -> dict[str, Any]:
    """The current settings (GET): the workload's own Service and Ingress, as the network
    service reports them."""
    row = load_row(deps, project_id, namespace, name)
    network = _network(deps)
    return view(row, _current(network, project_id, namespace, name))


def set_settings(
    deps: Deps,
    project_id: str,
    namespace: str,
    name: str,
    wanted: dict[str, Any],
    actor: str,
) -> dict[str, Any]:
    """Make the workload's Service and Ingress what `wanted` (NetworkSettingsSchema) says."""
    row = load_row(deps, project_id, namespace, name)
    require_project_namespace(deps.cluster, project_id, namespace)
    workload = deps.cluster.get(row.kind, namespace, name)
    desired: dict[str, dict[str, Any] | None] = {"Service": None, "Ingress": None}
    if wanted["service"] is not None:
        check_selector(workload)
        check_target_ports(wanted["service"]["ports"], declared_ports(workload))
        desired["Service"] = service_manifest(workload, wanted["service"])
    if wanted["ingress"] is not None:
        desired["Ingress"] = ingress_manifest(workload, wanted["ingress"])

    network = _network(deps)
    before = _current(network, project_id, namespace, name)
    refuse_foreign(before, desired, namespace, name)
    _apply(network, project_id, namespace, name, plan(before, desired, name), before, actor)

    after = _current(network, project_id, namespace, name)
    answer = view(row, after)
    old, new = settings_digest(view(row, before)), settings_digest(answer)
    if old != new:
        logger.info("network settings of %s %s/%s: %s", row.kind, namespace, name, new)
        save(deps, row, actor, "workload.updated", {"changed": ["network"], **new})
    return answer


# -- checks -----------------------------------------------------------------------------------


def declared_ports(workload: dict[str, Any]) -> list[dict[str, Any]]:
    """The ports the workload's containers declare: [{container, name, port, protocol}]."""
    declared = []
    for container in pod_spec(workload).get("containers") or []:
        for port in container.get("ports") or []:
            declared.append(
                {
                    "container": container.get("name"),
                    "name": port.get("name"),
                    "port": port.get("containerPort"),
                    "protocol": port.get("protocol") or "TCP",
                }
            )
    return declared


def check_target_ports(ports: list[dict[str, Any]], declared: list[dict[str, Any]]) -> None:
    """Every Service port must reach a port a container declares, by number or by name."""
    for i, port in enumerate(ports):
        target, protocol = port["target_port"], port["protocol"]
        key = "name" if isinstance(target, str) else "port"
        if any(d[key] == target and d["protocol"] == protocol for d in declared):
            continue
        known = ", ".join(
            f"{d['port']}/{d['protocol']}" + (f" ({d['name']})" if d["name"] else "")
            for d in declared
        )
        raise TargetPortNotDeclared(
            f"service.ports[{i}].target_port: no container declares port {target}/{protocol}"
            + (f" (declared: {known})" if known else "; the containers declare no ports")
            + "; add it to the container's ports (edit the YAML) or target a declared one",
            {
                "field": f"service.ports[{i}].target_port",
                "target_port": target,
                "protocol": protocol,
                "declared": declared,
            },
        )


def check_selector(workload: dict[str, Any]) -> None:
    """The Service selects the pods by `scs.io/workload`; the pod template must carry it."""
    name = workload["metadata"]["name"]
    template = dig(workload, pod_template_path(workload["kind"])) or {}
    if ((template.get("metadata") or {}).get("labels") or {}).get(WORKLOAD_LABEL) != name:
        raise InvalidOperation(
            f"the pods of {name} do not carry the label {WORKLOAD_LABEL}={name}; "
            "replace the workload from its YAML once so the platform labels them",
            {"field": "service", "label": WORKLOAD_LABEL},
        )


def is_own(obj: dict[str, Any] | None, name: str) -> bool:
    return obj is not None and (obj.get("labels") or {}).get(WORKLOAD_LABEL) == name


def refuse_foreign(
    current: Objects, desired: dict[str, dict[str, Any] | None], namespace: str, name: str
) -> None:
    """An object of the workload's name that is not the workload's is never overwritten."""
    for kind in KINDS:
        if (
            desired[kind] is not None
            and current[kind] is not None
            and not is_own(current[kind], name)
        ):
            raise NetworkNameTaken(
                f"{FIELD_OF[kind]}: a {kind} named {name} exists in {namespace} and was not "
                f"made by these settings; delete or rename it in the network area first",
                {"field": FIELD_OF[kind], "kind": kind, "namespace": namespace, "name": name},
            )


# -- manifests --------------------------------------------------------------------------------


def service_manifest(workload: dict[str, Any], service: dict[str, Any]) -> dict[str, Any]:
    ports = []
    for port in service["ports"]:
        entry: dict[str, Any] = {
            "port": port["port"],
            "targetPort": port["target_port"],
            "protocol": port["protocol"],
        }
        if port.get("name"):
            entry["name"] = port["name"]
        ports.append(entry)
    name = workload["metadata"]["name"]
    spec = {"type": service["type"], "selector": {WORKLOAD_LABEL: name}, "ports": ports}
    return _object("Service", workload, spec)


def ingress_manifest(workload: dict[str, Any], ingress: dict[str, Any]) -> dict[str, Any]:
    backend = {
        "service": {"name": workload["metadata"]["name"], "port": {"number": ingress["port"]}}
    }
    path = {"path": ingress["path"], "pathType": ingress["path_type"], "backend": backend}
    spec = {"rules": [{"host": ingress["host"], "http": {"paths": [path]}}]}
    return _object("Ingress", workload, spec)


def _object(kind: str, workload: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    meta = workload["metadata"]
    owner = {
        "apiVersion": workload["apiVersion"],
        "kind": workload["kind"],
        "name": meta["name"],
        "uid": meta["uid"],
    }
    return {
        "apiVersion": API_VERSIONS[kind],
        "kind": kind,
        "metadata": {
            "name": meta["name"],
            "namespace": meta["namespace"],
            "labels": {WORKLOAD_LABEL: meta["name"], MANAGED_LABEL: "true"},
            "ownerReferences": [owner],
        },
        "spec": spec,
    }


# -- applying through the network service -----------------------------------------------------

Step = tuple[str, dict[str, Any] | None]  # (kind, manifest to apply, or None: delete)


def plan(current: Objects, desired: dict[str, dict[str, Any] | None], name: str) -> list[Step]:
    """The steps, in an order where each intermediate state is valid.

    An Ingress may name a Service that is not there yet, never the other way round: with an
    Ingress wanted it goes first (its host is the likeliest refusal), otherwise the Ingress is
    removed before the Service. Objects not the workload's are neither replaced nor deleted.
    """
    own = {kind: is_own(current[kind], name) for kind in KINDS}
    ingress: list[Step] = []
    if desired["Ingress"] is not None:
        ingress = [("Ingress", desired["Ingress"])]
    elif own["Ingress"]:
        ingress = [("Ingress", None)]
    service: list[Step] = []
    if desired["Service"] is not None:
        service = [("Service", desired["Service"])]
    elif own["Service"]:
        service = [("Service", None)]
    if desired["Ingress"] is not None:
        return ingress + service
    if desired["Service"] is not None:
        return service + ingress
    return ingress + service


def _apply(
    network: Any,
    project_id: str,
    namespace: str,
    name: str,
    steps: list[Step],
    before: Objects,
    actor: str,
) -> None:
    done: list[str] = []
    try:
        for kind, manifest in steps:
            try:
                if manifest is None:
                    network.delete_object(project_id, namespace, kind, name, actor)
                else:
                    network.apply_manifest(project_id, namespace, manifest, actor)
            except ScsError as exc:
                raise naming_field(exc, FIELD_OF[kind]) from exc
            done.append(kind)
    except Exception:
        for kind in reversed(done):
            _restore(network, project_id, namespace, name, kind, before[kind], actor)
        raise


def _restore(
    network: Any,
    project_id: str,
    namespace: str,
    name: str,
    kind: str,
    previous: dict[str, Any] | None,
    actor: str,
) -> None:
    try:
        if is_own(previous, name):
            assert previous is not None
            network.apply_manifest(project_id, namespace, reapplicable(previous), actor)
        else:
            network.delete_object(project_id, namespace, kind, name, actor)
    except Exception:  # best effort: the refusal that caused the undo is what the caller sees
        logger.exception("could not restore %s %s/%s after a refusal", kind, namespace, name)


def reapplicable(previous: dict[str, Any]) -> dict[str, Any]:
    """The manifest of an object as read, ready to be applied again (status and server-set
    metadata dropped)."""
    manifest = copy.deepcopy(previous["manifest"])
    manifest.pop("status", None)
    for key in SERVER_FIELDS:
        manifest["metadata"].pop(key, None)
    return manifest  # type: ignore[no-any-return]


def naming_field(exc: ScsError, field: str) -> ScsError:
    """The network service's refusal, naming the settings' field: `ingress.host` for a host
    another project serves, else `service` / `ingress` (its own field kept as `object_field`)."""
    details = dict(exc.details)
    if exc.code == "ingress_host_taken":
        details["object_field"], details["field"] = details.get("field"), "ingress.host"
    elif "field" in details:
        details["object_field"], details["field"] = details["field"], field
    else:
        details["field"] = field
    return type(exc)(exc.message, details, exc.code, exc.http_status)


def _network(deps: Deps) -> Any:
    """The network service's proxy, once it answered: without it nothing is read or changed."""
    proxy = deps.owners.get("network")
    try:
        if proxy is None:
            raise UnknownService("network")
        proxy.health()
    except UnknownService as exc:
        raise OwnerUnavailable(
            "Services and Ingresses belong to the network service, which is not running; "
            "nothing was changed",
            {"owner": "network"},
        ) from exc
    return proxy


def _current(network: Any, project_id: str, namespace: str, name: str) -> Objects:
    found: Objects = {}
    for kind in KINDS:
        try:
            found[kind] = network.get_object(project_id, namespace, kind, name)
        except ScsError as exc:
            if exc.code != NOT_FOUND:
                raise
            found[kind] = None
    return found


# -- answers ----------------------------------------------------------------------------------


def view(row: Workload, objects: Objects) -> dict[str, Any]:
    """{"namespace", "workload", "kind", "service", "ingress", "unmanaged"}: the workload's
    own objects, and the kinds whose object of its name is not the workload's."""
    own = {kind: objects[kind] if is_own(objects[kind], row.name) else None for kind in KINDS}
    return {
        "namespace": row.namespace,
        "workload": row.name,
        "kind": row.kind,
        "service": _service_view(own["Service"]),
        "ingress": _ingress_view(own["Ingress"]),
        "unmanaged": [k for k in KINDS if objects[k] is not None and own[k] is None],
    }


def _service_view(found: dict[str, Any] | None) -> dict[str, Any] | None:
    if found is None:
        return None
    ports = []
    for port in found.get("ports") or []:
        entry = {
            "name": port.get("name"),
            "port": port.get("port"),
            "target_port": port.get("targetPort", port.get("port")),
            "protocol": port.get("protocol") or "TCP",
        }
        if port.get("nodePort"):
            entry["node_port"] = port["nodePort"]
        ports.append(entry)
    answer = {
        "name": found["name"],
        "uid": found.get("uid"),
        "type": found.get("type"),
        "cluster_ip": found.get("cluster_ip"),
        "selector": found.get("selector") or {},
        "ports": ports,
    }
    if "load_balancer" in found:
        answer["load_balancer"] = found["load_balancer"]
    return answer


def _ingress_view(found: dict[str, Any] | None) -> dict[str, Any] | None:
    if found is None:
        return None
    rule = (dig(found, ("manifest", "spec", "rules")) or [{}])[0]
    path = (dig(rule, ("http", "paths")) or [{}])[0]
    ingress_status = dig(found, ("manifest", "status", "loadBalancer", "ingress")) or []
    return {
        "name": found["name"],
        "uid": found.get("uid"),
        "host": rule.get("host"),
        "path": path.get("path"),
        "path_type": path.get("pathType"),
        "port": dig(path, ("backend", "service", "port", "number")),
        "addresses": [a.get("ip") or a.get("hostname") for a in ingress_status],
    }


def settings_digest(answer: dict[str, Any]) -> dict[str, Any]:
    """What the caller chose (no cluster-assigned values): compared to tell a change, and the
    data of `workload.updated`."""
    service, ingress = answer["service"], answer["ingress"]
    return {
        "service": None
        if service is None
        else {
            "type": service["type"],
            "ports": [
                {k: p[k] for k in ("name", "port", "target_port", "protocol")}
                for p in service["ports"]
            ],
        },
        "ingress": None
        if ingress is None
        else {k: ingress[k] for k in ("host", "path", "path_type", "port")},
    }
