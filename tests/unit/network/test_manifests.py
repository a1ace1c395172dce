"""Forms and manifests (manifests.py, schemas.py); pure functions, nothing faked."""

import pytest

from services.network import manifests
from services.network.exceptions import InvalidManifest
from services.network.schemas import load_form


def test_service_form_becomes_a_labelled_service() -> None:
    form = load_form(
        {
            "name": "web",
            "type": "LoadBalancer",
            "ports": [{"port": 80, "target_port": 8080}],
            "selector": {"app": "web"},
        }
    )
    svc = manifests.service_from_form("vision-dev", "p1", form)
    assert svc["metadata"] == {
        "name": "web",
        "namespace": "vision-dev",
        "labels": {"scs.io/project": "p1"},
    }
    assert svc["spec"] == {
        "type": "LoadBalancer",
        "selector": {"app": "web"},
        "ports": [{"port": 80, "protocol": "TCP", "targetPort": 8080}],
    }


def test_ingress_form_becomes_an_ingress() -> None:
    form = load_form(
        {
            "kind": "Ingress",
            "name": "web",
            "rules": [{"host": "a.example", "service": "web", "port": 80}],
        }
    )
    ing = manifests.ingress_from_form("vision-dev", "p1", form)
    path = ing["spec"]["rules"][0]["http"]["paths"][0]
    assert ing["spec"]["rules"][0]["host"] == "a.example"
    assert path["backend"] == {"service": {"name": "web", "port": {"number": 80}}}


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"name": "Web", "ports": [{"port": 80}]}, "name"),
        ({"name": "web", "ports": []}, "ports"),
        ({"name": "web", "ports": [{"port": 70000}]}, "ports"),
        ({"name": "web", "type": "ExternalName", "ports": [{"port": 80}]}, "type"),
        ({"name": "web", "ports": [{"port": 80}], "extra": 1}, "extra"),
    ],
)
def test_bad_forms_name_the_field(form, field) -> None:
    with pytest.raises(InvalidManifest) as caught:
        load_form(form)
    assert field in caught.value.details["fields"]


def test_node_port_on_cluster_ip_is_refused() -> None:
    form = load_form({"name": "web", "ports": [{"port": 80, "node_port": 30080}]})
    with pytest.raises(InvalidManifest) as caught:
        manifests.service_from_form("ns", "p1", form)
    assert "ports.node_port" in caught.value.details["fields"]


def test_checked_manifest_keeps_the_namespace_and_refuses_other_kinds() -> None:
    doc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web"},
        "spec": {"type": "LoadBalancer"},
        "status": {"loadBalancer": {}},
    }
    checked = manifests.checked_manifest(doc, "vision-dev", "p1")
    assert checked["metadata"]["namespace"] == "vision-dev" and "status" not in checked
    for bad, field in (
        ({**doc, "kind": "ConfigMap"}, "kind"),
        ({**doc, "metadata": {"name": "web", "namespace": "other"}}, "metadata.namespace"),
        ({**doc, "spec": {"type": "ExternalName"}}, "spec.type"),
        ({**doc, "spec": {"externalIPs": ["1.2.3.4"]}}, "spec.externalIPs"),
    ):
        with pytest.raises(InvalidManifest) as caught:
            manifests.checked_manifest(bad, "vision-dev", "p1")
        assert field in caught.value.details["fields"]


def test_yaml_must_be_one_mapping() -> None:
    with pytest.raises(InvalidManifest):
        manifests.parse_yaml("- a\n- b\n")
    with pytest.raises(InvalidManifest):
        manifests.parse_yaml("a: [unclosed")
