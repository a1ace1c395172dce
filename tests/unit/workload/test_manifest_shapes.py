"""Wrongly-typed manifests: every field of ten sample objects set in turn to null, 7, "str",
[], {} and true must end in the service's own 4xx error naming the field, or be accepted.

Nothing is faked: `read_documents` and the creation checks that need neither the cluster nor
the database (`creation._validate`, replicas, HPA maximum) run on each case, as a create does
before it reserves anything.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from services.workload import creation
from services.workload.exceptions import InvalidManifest
from services.workload.manifests import HPA, WORKLOAD, read_documents, replicas_of
from shared.errors import ScsError

CONTAINER = {
    "name": "c",
    "image": "nginx",
    "ports": [{"containerPort": 80}],
    "resources": {"requests": {"cpu": "10m", "memory": "8Mi"}, "limits": {"cpu": "10m"}},
    "securityContext": {"privileged": False, "capabilities": {"add": ["CHOWN"]}},
    "env": [{"name": "A", "value": "b"}],
    "volumeMounts": [{"name": "v", "mountPath": "/v"}],
}
POD_SPEC = {
    "containers": [CONTAINER],
    "volumes": [{"name": "v", "emptyDir": {}}],
    "securityContext": {"sysctls": [{"name": "kernel.shm_rmid_forced", "value": "1"}]},
    "tolerations": [{"key": "k", "operator": "Exists"}],
    "nodeSelector": {"kubernetes.io/arch": "amd64"},
}
JOB_POD = {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}
CLAIM_SPEC = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
BASE: dict[str, dict[str, Any]] = {
    "Deployment": {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "fz", "labels": {"a": "b"}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"a": "fz"}},
            "template": {
                "metadata": {"labels": {"a": "fz"}, "annotations": {"x": "y"}},
                "spec": POD_SPEC,
            },
        },
    },
    "Job": {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "fzj"},
        "spec": {"template": {"spec": JOB_POD}},
    },
    "CronJob": {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "fzc"},
        "spec": {
            "schedule": "*/5 * * * *",
            "jobTemplate": {"spec": {"template": {"spec": JOB_POD}}},
        },
    },
    "StatefulSet": {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "fzss"},
        "spec": {
            "serviceName": "x",
            "replicas": 1,
            "selector": {"matchLabels": {"a": "fzss"}},
            "template": {
                "metadata": {"labels": {"a": "fzss"}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            },
            "volumeClaimTemplates": [{"metadata": {"name": "d"}, "spec": CLAIM_SPEC}],
        },
    },
    "HorizontalPodAutoscaler": {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "fzh"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "fzh"},
            "minReplicas": 1,
            "maxReplicas": 2,
        },
    },
    "Service": {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "fzs"},
        "spec": {"type": "LoadBalancer", "selector": {"a": "fz"}, "ports": [{"port": 80}]},
    },
    "PersistentVolumeClaim": {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "fzp"},
        "spec": CLAIM_SPEC,
    },
    "ConfigMap": {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "fzm"},
        "data": {"a": "b"},
    },
    "Secret": {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "fzsec"},
        "stringData": {"a": "b"},
    },
    "Ingress": {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "fzi"},
        "spec": {
            "rules": [
                {
                    "host": "a.example.com",
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": "x", "port": {"number": 80}}},
                            }
                        ]
                    },
                }
            ]
        },
    },
}
VALUES = (None, 7, "str", [], {}, True)


def _paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if path:
        yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, (*path, i))


def _json_path(path: tuple[Any, ...]) -> str:
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else f".{step}" if text else step
    return text


def _cases() -> Iterator[Any]:
    for kind, body in BASE.items():
        for path in _paths(body):
            for value in VALUES:
                yield pytest.param(kind, path, value, id=f"{kind}:{_json_path(path)}={value!r}")


def _set(body: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(body)
    node: Any = changed
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return changed


def _checks_before_reserving(manifest: dict[str, Any]) -> None:
    documents = read_documents([manifest])
    creation._validate(documents, "p1", "vision-dev")
    for doc in documents:
        if doc.role == WORKLOAD:
            replicas_of(doc.body)
        elif doc.role == HPA:
            creation.hpa_max(documents, str(doc.body["spec"]["scaleTargetRef"]["name"]))


def _original(body: dict[str, Any], path: tuple[Any, ...]) -> Any:
    node: Any = body
    for step in path:
        node = node[step]
    return node


@pytest.mark.parametrize("kind", sorted(BASE))
def test_each_sample_manifest_passes_as_it_is(kind: str) -> None:
    _checks_before_reserving(copy.deepcopy(BASE[kind]))


@pytest.mark.parametrize("kind, path, value", list(_cases()))
def test_a_wrongly_typed_field_is_a_4xx_naming_the_field(
    kind: str, path: tuple[Any, ...], value: Any
) -> None:
    field = _json_path(path)
    original = _original(BASE[kind], path)
    wrong_container = isinstance(original, dict | list) and not isinstance(
        value, type(original) | None
    )

    try:
        _checks_before_reserving(_set(BASE[kind], path, value))
    except ScsError as exc:
        assert 400 <= exc.http_status < 500, exc
        named = str(exc.details.get("field"))
        assert named.startswith(field) or field.startswith(named), (named, exc)
        return
    assert not wrong_container, f"{field}={value!r} was accepted"


@pytest.mark.parametrize(
    "field, value",
    [
        ("spec.template", None),
        ("spec.template.metadata.labels", 7),
        ("spec.template.spec.containers", True),
        ("spec.template.spec.containers[0].resources.requests", "str"),
        ("spec.template.spec.containers[0].resources.requests.cpu", []),
        ("spec.template.spec.containers[0].securityContext.capabilities", "str"),
        ("spec.template.spec.tolerations", 7),
    ],
)
def test_the_refusal_is_invalid_manifest_with_the_json_path_and_document(
    field: str, value: Any
) -> None:
    path = tuple(
        int(step) if step.isdigit() else step
        for step in field.replace("[", ".").replace("]", "").split(".")
    )
    manifest = _set(BASE["Deployment"], path, value)

    with pytest.raises(InvalidManifest) as caught:
        read_documents([BASE["ConfigMap"], manifest])

    assert caught.value.http_status == 400
    assert caught.value.details["field"] == field
    assert caught.value.details["document"] == 1


def test_an_optional_null_is_read_as_absent() -> None:
    manifest = _set(BASE["Deployment"], ("spec", "template", "metadata", "labels"), None)

    doc = read_documents(manifest)[0]

    assert "labels" not in doc.body["spec"]["template"]["metadata"]


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf"])
def test_a_non_finite_yaml_quantity_is_refused(value: str) -> None:
    text = f"""
apiVersion: batch/v1
kind: Job
metadata: {{name: j}}
spec:
  template:
    spec:
      containers: [{{name: c, image: busybox, resources: {{requests: {{cpu: {value}}}}}}}]
"""
    with pytest.raises(InvalidManifest) as caught:
        read_documents(text)

    assert (
        caught.value.details["field"] == "spec.template.spec.containers[0].resources.requests.cpu"
    )
