"""Service and Ingress manifests of the wrong shape are refused naming the field, before the
Kubernetes client or the apiserver sees them. Nothing is faked: pure functions."""

from typing import Any

import pytest

from services.network import manifests
from services.network.exceptions import InvalidManifest

SERVICE = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "web"},
    "spec": {"type": "LoadBalancer", "selector": {"a": "b"}, "ports": [{"port": 80}]},
}
INGRESS = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "Ingress",
    "metadata": {"name": "web"},
    "spec": {
        "rules": [
            {
                "host": "a.example.com",
                "http": {
                    "paths": [
                        {
                            "path": "/",
                            "pathType": "Prefix",
                            "backend": {"service": {"name": "web", "port": {"number": 80}}},
                        }
                    ]
                },
            }
        ]
    },
}


def _with(doc: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    return {**doc, "spec": spec}


@pytest.mark.parametrize(
    "doc, field",
    [
        (_with(SERVICE, {"ports": [{"port": "str"}]}), "spec.ports[0].port"),
        (_with(SERVICE, {"ports": 7}), "spec.ports"),
        (_with(SERVICE, {"ports": [7]}), "spec.ports[0]"),
        (_with(SERVICE, {"ports": [{"port": 80, "targetPort": []}]}), "spec.ports[0].targetPort"),
        (_with(SERVICE, {"selector": {"a": 7}}), "spec.selector.a"),
        (_with(SERVICE, {"type": 7}), "spec.type"),
        ({**SERVICE, "spec": None}, "spec"),
        ({**SERVICE, "metadata": {"name": "web", "labels": []}}, "metadata.labels"),
        (_with(INGRESS, {"rules": {}}), "spec.rules"),
        (
            _with(INGRESS, {"rules": [{"http": {"paths": [{"backend": "x"}]}}]}),
            "spec.rules[0].http.paths[0].backend",
        ),
        (_with(INGRESS, {"tls": [{"hosts": "a"}]}), "spec.tls[0].hosts"),
    ],
)
def test_a_wrongly_typed_field_is_named(doc: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidManifest) as caught:
        manifests.checked_manifest(doc, "vision-dev", "p1")

    assert caught.value.http_status == 400
    assert list(caught.value.details["fields"]) == [field]


def test_well_formed_objects_pass_and_optional_nulls_are_dropped() -> None:
    doc = {**SERVICE, "metadata": {"name": "web", "labels": None}}

    checked = manifests.checked_manifest(doc, "vision-dev", "p1")

    assert checked["metadata"]["labels"] == {"scs.io/project": "p1"}
    assert manifests.checked_manifest(INGRESS, "vision-dev", "p1")["spec"] == INGRESS["spec"]
