"""A form (validated by schemas.WorkloadFormSchema) turned into a Kubernetes manifest.

The form covers what a person fills in: kind, name, image, command and args, env, resources,
ports, replicas, volumes (emptyDir, ConfigMap, Secret or an existing claim), update strategy,
scheduling (node selector, node affinity, tolerations), labels, and for Jobs and CronJobs the
schedule and completion settings. The manifest then goes through the same checks as YAML.
"""

from __future__ import annotations

from typing import Any

from services.workload.manifests import WORKLOAD_KINDS

APP_LABEL = "app.kubernetes.io/name"


def to_manifest(form: dict[str, Any]) -> dict[str, Any]:
    """The workload object a form describes."""
    kind, name = form["kind"], form["name"]
    labels = {APP_LABEL: name, **(form.get("labels") or {})}
    template = {"metadata": {"labels": labels}, "spec": pod_spec(form)}
    body: dict[str, Any] = {
        "apiVersion": WORKLOAD_KINDS[kind],
        "kind": kind,
        "metadata": {"name": name, "labels": labels},
    }
    if kind in ("Deployment", "StatefulSet", "DaemonSet"):
        body["spec"] = _controller_spec(form, name, template)
    elif kind == "Job":
        body["spec"] = _job_spec(form, template)
    else:
        body["spec"] = {
            "schedule": form["schedule"],
            "jobTemplate": {"spec": _job_spec(form, template)},
        }
    return body


def pod_spec(form: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [container(form)]}
    volumes = [_volume(v) for v in form.get("volumes") or []]
    if volumes:
        spec["volumes"] = volumes
    if form["kind"] in ("Job", "CronJob"):
        spec["restartPolicy"] = form.get("restart_policy") or "Never"
    spec.update(scheduling(form.get("scheduling") or {}))
    return spec


def container(form: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": form.get("container_name") or form["name"],
        "image": form["image"],
    }
    if form.get("command"):
        body["command"] = list(form["command"])
    if form.get("args"):
        body["args"] = list(form["args"])
    if form.get("env"):
        body["env"] = [{"name": k, "value": str(v)} for k, v in sorted(form["env"].items())]
    if form.get("ports"):
        body["ports"] = [{"containerPort": int(p)} for p in form["ports"]]
    if form.get("resources"):
        body["resources"] = resources(form["resources"])
    mounts = [{"name": v["name"], "mountPath": v["mount_path"]} for v in form.get("volumes") or []]
    if mounts:
        body["volumeMounts"] = mounts
    return body


def resources(form: dict[str, Any]) -> dict[str, Any]:
    """{"requests": {"cpu": "250m", "memory": "128Mi"}, "limits": {..., "gpu": 1}}."""
    answer: dict[str, Any] = {}
    for part in ("requests", "limits"):
        values = dict(form.get(part) or {})
        if "gpu" in values:
            values["nvidia.com/gpu"] = str(values.pop("gpu"))
        if values:
            answer[part] = {k: str(v) for k, v in values.items()}
    return answer


def scheduling(form: dict[str, Any]) -> dict[str, Any]:
    """nodeSelector, required node affinity ({label: [values]}) and tolerations."""
    spec: dict[str, Any] = {}
    if form.get("node_selector"):
        spec["nodeSelector"] = dict(form["node_selector"])
    if form.get("node_affinity"):
        expressions = [
            {"key": key, "operator": "In", "values": list(values)}
            for key, values in sorted(form["node_affinity"].items())
        ]
        spec["affinity"] = {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [{"matchExpressions": expressions}]
                }
            }
        }
    if form.get("tolerations") is not None:
        spec["tolerations"] = [_toleration(t) for t in form["tolerations"]]
    return spec


def strategy(kind: str, form: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(field name, value) of an update strategy for a Deployment, StatefulSet or DaemonSet."""
    field = "strategy" if kind == "Deployment" else "updateStrategy"
    kind_type = form.get("type") or "RollingUpdate"
    if kind_type != "RollingUpdate":
        return field, {"type": kind_type}
    rolling: dict[str, Any] = {}
    for key, name in (("max_surge", "maxSurge"), ("max_unavailable", "maxUnavailable")):
        if form.get(key) is not None:
            rolling[name] = form[key]
    if form.get("partition") is not None:
        rolling["partition"] = form["partition"]
    return field, {"type": "RollingUpdate", "rollingUpdate": rolling}


def _controller_spec(form: dict[str, Any], name: str, template: dict) -> dict[str, Any]:
    kind = form["kind"]
    spec: dict[str, Any] = {"selector": {"matchLabels": {APP_LABEL: name}}, "template": template}
    if kind != "DaemonSet":
        spec["replicas"] = form.get("replicas", 1)
    if kind == "StatefulSet":
        spec["serviceName"] = form.get("service_name") or name
    if form.get("strategy"):
        field, value = strategy(kind, form["strategy"])
        spec[field] = value
    return spec


def _job_spec(form: dict[str, Any], template: dict) -> dict[str, Any]:
    spec: dict[str, Any] = {"template": template}
    for key, name in (
        ("completions", "completions"),
        ("parallelism", "parallelism"),
        ("backoff_limit", "backoffLimit"),
    ):
        if form.get(key) is not None:
            spec[name] = form[key]
    return spec


def _volume(form: dict[str, Any]) -> dict[str, Any]:
    volume: dict[str, Any] = {"name": form["name"]}
    if form.get("config_map"):
        volume["configMap"] = {"name": form["config_map"]}
    elif form.get("secret"):
        volume["secret"] = {"secretName": form["secret"]}
    elif form.get("claim"):
        volume["persistentVolumeClaim"] = {"claimName": form["claim"]}
    else:
        empty_dir: dict[str, Any] = {}
        if form.get("size_limit"):
            empty_dir["sizeLimit"] = form["size_limit"]
        volume["emptyDir"] = empty_dir
    return volume


def _toleration(form: dict[str, Any]) -> dict[str, Any]:
    names = {"key": "key", "operator": "operator", "value": "value", "effect": "effect"}
    return {names[k]: v for k, v in form.items() if k in names and v is not None}
