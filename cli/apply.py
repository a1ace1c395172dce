"""`scs apply -f FILE`: create what is new, replace what exists, as `kubectl apply` does.

The workloads of the namespace are listed first (one GET). A workload document whose name
exists is replaced through `PUT .../workloads/<name>/yaml` (one document each; the API keeps
the current replicas when the manifest names none); everything else (new workloads, Services,
Ingresses, claims, ConfigMaps, Secrets, new HPAs) goes to `POST .../workloads`, whose
companions are created or replaced by their owning services. An HPA of a workload that
autoscales already would be created twice, so it is sent to `PUT .../workloads/<target>/
autoscaling` instead. Each object prints `<kind>/<name> created|configured`.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import yaml

from cli import rollout
from cli.client import api_path
from cli.context import Context
from cli.errors import EXIT_REFUSED, EXIT_USAGE, CliError
from cli.render import structured

logger = logging.getLogger(__name__)

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")
HPA_KIND = "HorizontalPodAutoscaler"
# The list each companion kind's existing objects are found in (to say configured, not created).
COMPANION_LISTS = {
    "Service": "services",
    "Ingress": "services",
    "PersistentVolumeClaim": "volume-claims",
    "ConfigMap": "config",
    "Secret": "config",
}


def read_manifest(source: str) -> tuple[str, list[dict[str, Any]]]:
    """The file's text and its documents; bad YAML is refused here, naming the line."""
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text()
    except OSError as exc:
        raise CliError(
            EXIT_USAGE, "unreadable_file", f"cannot read {source}: {exc.strerror}", "file"
        ) from exc
    try:
        documents = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not YAML"
        raise CliError(
            EXIT_REFUSED, "invalid_yaml", f"{source}{where}: {problem}", "file"
        ) from exc
    if not documents or not all(isinstance(d, dict) for d in documents):
        raise CliError(
            EXIT_REFUSED, "invalid_yaml", f"{source}: expected one or more objects", "file"
        )
    return text, documents


def apply_namespace(ctx: Context, documents: list[dict[str, Any]]) -> str:
    """-n, else the namespace every document names, else the configured default."""
    if getattr(ctx.args, "namespace", None):
        return str(ctx.args.namespace)
    named = {(d.get("metadata") or {}).get("namespace") for d in documents} - {None}
    if len(named) == 1:
        return str(named.pop())
    if len(named) > 1:
        raise CliError(
            EXIT_USAGE,
            "several_namespaces",
            "the documents name several namespaces: pass -n",
            "namespace",
        )
    return str(ctx.namespace())


def _name(document: dict[str, Any]) -> str:
    return str((document.get("metadata") or {}).get("name") or "")


def _hpa_target(document: dict[str, Any]) -> str:
    return str(((document.get("spec") or {}).get("scaleTargetRef") or {}).get("name") or "")


def autoscaling_policy(hpa: dict[str, Any]) -> dict[str, Any] | None:
    """The autoscaling route's body for an HPA document; None for what it cannot express
    (another name than its target's, metrics other than CPU or memory utilization)."""
    spec = hpa.get("spec") or {}
    if _name(hpa) != _hpa_target(hpa) or not isinstance(spec.get("maxReplicas"), int):
        return None
    policy: dict[str, Any] = {
        "min_replicas": spec.get("minReplicas") or 1,
        "max_replicas": spec["maxReplicas"],
    }
    if spec.get("targetCPUUtilizationPercentage"):  # autoscaling/v1
        policy["cpu_utilization"] = spec["targetCPUUtilizationPercentage"]
    for metric in spec.get("metrics") or []:
        resource = (metric or {}).get("resource") or {}
        target = resource.get("target") or {}
        if (
            metric.get("type") != "Resource"
            or resource.get("name") not in ("cpu", "memory")
            or target.get("type") != "Utilization"
        ):
            return None
        policy[f"{resource['name']}_utilization"] = target.get("averageUtilization")
    return policy if len(policy) > 2 else None


class Plan:
    """What one apply sends: documents to create, workloads and HPAs to replace."""

    def __init__(self, documents: list[dict[str, Any]], existing: dict[str, Any]) -> None:
        self.create: list[dict[str, Any]] = []
        self.replace: list[dict[str, Any]] = []
        self.autoscale: list[tuple[dict[str, Any], dict[str, Any]]] = []
        self.skipped: list[dict[str, Any]] = []
        for document in documents:
            kind, name = document.get("kind"), _name(document)
            if kind in WORKLOAD_KINDS and name in existing:
                self.replace.append(document)
                continue
            target = existing.get(_hpa_target(document)) if kind == HPA_KIND else None
            if target is not None and target.get("autoscaling_max"):
                policy = autoscaling_policy(document)
                if policy is None:
                    self.skipped.append(document)
                else:
                    self.autoscale.append((document, policy))
                continue
            self.create.append(document)


def _existing_companions(
    ctx: Context, base: str, namespace: str, documents: list[dict[str, Any]]
) -> set[tuple[str, str]]:
    """(kind, name) of the file's companions that exist already (one list per owner)."""
    lists = {COMPANION_LISTS[d["kind"]] for d in documents if d.get("kind") in COMPANION_LISTS}
    found: set[tuple[str, str]] = set()
    for tail in sorted(lists):
        for item in ctx.gateway.get(f"{base}/{tail}", namespace=namespace)["items"]:
            found.add((str(item.get("kind") or "PersistentVolumeClaim"), str(item["name"])))
    return found


def apply(ctx: Context) -> int:
    text, documents = read_manifest(ctx.args.file)
    project, namespace = ctx.project(), apply_namespace(ctx, documents)
    base = api_path("projects", project)
    listed = ctx.gateway.get(f"{base}/workloads", namespace=namespace)["items"]
    plan = Plan(documents, {w["name"]: w for w in listed})
    companions = _existing_companions(ctx, base, namespace, plan.create)

    workloads: list[dict[str, Any]] = []
    objects: list[dict[str, Any]] = []
    if plan.create:
        # the file's own text when nothing exists yet, so the API names its lines
        manifest: Any = text if len(plan.create) == len(documents) else plan.create
        answer = ctx.gateway.call(
            "POST", f"{base}/workloads", {"namespace": namespace, "manifest": manifest}
        )
        workloads += answer.get("workloads", [])
        for obj in answer.get("objects", []):
            known = (obj["kind"], obj["name"]) in companions
            objects.append({**obj, "action": "configured" if known else "created"})
    for document in plan.replace:
        path = f"{base}{api_path('workloads', _name(document), 'yaml')}"
        record = ctx.gateway.call("PUT", path, {"manifest": document}, {"namespace": namespace})
        workloads.append(record)
        objects.append(_object(document, namespace, "configured"))
    for document, policy in plan.autoscale:
        path = f"{base}{api_path('workloads', _hpa_target(document), 'autoscaling')}"
        ctx.gateway.call("PUT", path, policy, {"namespace": namespace})
        objects.append(_object(document, namespace, "configured"))
    objects += [_object(d, namespace, "skipped") for d in plan.skipped]
    logger.info("applied %s documents to %s/%s", len(documents), project, namespace)

    _report(ctx, {"workloads": workloads, "objects": objects})
    if ctx.args.wait:
        targets = [(w["namespace"], w["name"]) for w in workloads]
        return rollout.wait(ctx, project, targets, ctx.args.timeout)
    return 0


def _object(document: dict[str, Any], namespace: str, action: str) -> dict[str, Any]:
    return {
        "owner": "workload",
        "kind": document.get("kind"),
        "namespace": namespace,
        "name": _name(document),
        "action": action,
    }


def _report(ctx: Context, answer: dict[str, Any]) -> None:
    if ctx.output != "table":
        ctx.print(structured(answer, ctx.output))
        return
    for obj in answer["objects"]:
        line = f"{obj['kind'].lower()}/{obj['name']} {obj['action']}"
        if obj["action"] == "skipped":
            line += (
                " (it exists; only an HPA named as its target, on CPU or memory utilization,"
                " is replaced: `PUT .../workloads/<name>/autoscaling`)"
            )
        ctx.print(line)
