"""CRD and custom resource validation (pure functions, no fakes)."""

import pytest

from services.cluster import custom_resources as cr
from services.cluster.exceptions import InvalidInput

CRD_YAML = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Widget, plural: widgets}
  versions: [{name: v1, served: true, storage: true}]
"""


def field_of(caught) -> str:
    return next(iter(caught.value.details["fields"]))


def test_a_crd_from_yaml_is_accepted():
    manifest = cr.parse_manifest(None, CRD_YAML)
    cr.check_crd(manifest)
    assert cr.crd_summary(manifest)["versions"] == ["v1"]


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("a: [", "yaml"),
        ("a: 1\n---\nb: 2\n", "yaml"),
        ("- 1\n", "manifest"),
        ("kind: X\n", "metadata.name"),
    ],
)
def test_bad_yaml_names_the_field(text, field):
    with pytest.raises(InvalidInput) as caught:
        cr.parse_manifest(None, text)
    assert field_of(caught) == field


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda m: m.update(apiVersion="v1"), "apiVersion"),
        (lambda m: m["spec"].update(group="apps.k8s.io"), "spec.group"),
        (lambda m: m["metadata"].update(name="other.example.com"), "metadata.name"),
    ],
)
def test_bad_crds_are_refused(change, field):
    manifest = cr.parse_manifest(None, CRD_YAML)
    change(manifest)
    with pytest.raises(InvalidInput) as caught:
        cr.check_crd(manifest)
    assert field_of(caught) == field


def test_resolve_needs_a_served_version():
    crd = cr.parse_manifest(None, CRD_YAML)
    found = cr.resolve([crd], "example.com/v1", "Widget")
    assert (found.plural, found.namespaced) == ("widgets", True)
    assert cr.by_name([crd], "widgets.example.com").version == "v1"
