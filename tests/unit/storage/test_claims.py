"""Claim forms and manifests (claims.py, schemas.py), StorageClasses (classes.py), and the
sparse-file driver. Faked: the cluster and quota (conftest.py) where a test takes them."""

import pytest

from services.storage import claims, classes
from services.storage.drivers.embedded import SparseFileDriver
from services.storage.exceptions import (
    ExpansionRefused,
    InvalidClaim,
    NamespaceNotInProject,
)
from services.storage.schemas import ClaimFormSchema, load_checked

GI = 2**30


def test_form_sizes_accept_bytes_and_quantities() -> None:
    form = load_checked(ClaimFormSchema(), {"name": "data", "size": "20Gi"})
    assert form["size_bytes"] == 20 * GI and form["access_modes"] == ["ReadWriteOnce"]
    assert load_checked(ClaimFormSchema(), {"name": "d", "size": 1024})["size_bytes"] == 1024


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "d", "size": "lots"}, "size"),
        ({"name": "d", "size": -1}, "size"),
        ({"name": "d", "size": True}, "size"),
        ({"name": "D!", "size": 1}, "name"),
        ({"name": "d", "size": 1, "color": "red"}, "color"),
    ],
)
def test_bad_forms_name_the_field(body, field) -> None:
    with pytest.raises(InvalidClaim) as caught:
        load_checked(ClaimFormSchema(), body)
    assert field in caught.value.details["fields"]


def test_checked_claim_refuses_other_kinds_and_namespaces() -> None:
    doc = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "d"},
        "spec": {"resources": {"requests": {"storage": "1Gi"}}},
    }
    assert claims.checked_claim(doc, "ns", "p1")["metadata"]["labels"] == {"scs.io/project": "p1"}
    for bad in (
        {**doc, "kind": "Service"},
        {**doc, "metadata": {"name": "d", "namespace": "other"}},
        {**doc, "spec": {"resources": {"requests": {"storage": "huge"}}}},
    ):
        with pytest.raises(InvalidClaim):
            claims.checked_claim(bad, "ns", "p1")


def test_unknown_class_and_foreign_namespace_are_refused(storage_ctx, fake_cluster) -> None:
    form = {
        "name": "d",
        "storage_class": "gold",
        "size_bytes": GI,
        "access_modes": ["ReadWriteOnce"],
        "labels": {},
    }
    with pytest.raises(InvalidClaim):
        claims.create_claim(storage_ctx, "p1", "vision-dev", form, "u1")
    with pytest.raises(NamespaceNotInProject):
        claims.create_claim(storage_ctx, "p1", "ledger-dev", {**form, "storage_class": None}, "u1")


def test_default_class_and_shrink_refusal(storage_ctx, fake_cluster) -> None:
    form = {
        "name": "d",
        "storage_class": None,
        "size_bytes": GI,
        "access_modes": ["ReadWriteOnce"],
        "labels": {},
    }
    created = claims.create_claim(storage_ctx, "p1", "vision-dev", form, "u1")
    assert created["storage_class"] == classes.DEFAULT_CLASS
    with pytest.raises(ExpansionRefused):  # not bound yet
        claims.expand_claim(storage_ctx, "p1", "vision-dev", "d", 2 * GI, "u1")


def test_storage_classes_are_created_then_corrected(fake_cluster) -> None:
    assert classes.ensure_classes() == ["capacity", "high-performance"]
    sc = fake_cluster.classes["capacity"]
    assert sc["metadata"]["annotations"][classes.DEFAULT_ANNOTATION] == "true"
    assert sc["provisioner"] == "storage.scs.io/block" and sc["volumeBindingMode"] == "Immediate"
    fake_cluster.classes["high-performance"]["allowVolumeExpansion"] = False
    assert classes.ensure_classes() == []
    assert fake_cluster.classes["high-performance"]["allowVolumeExpansion"] is True


def test_sparse_file_driver_is_idempotent(tmp_path) -> None:
    driver = SparseFileDriver(tmp_path)
    path = driver.create_volume("v1", GI, "capacity")
    assert driver.create_volume("v1", GI, "capacity") == path
    driver.expand_volume("v1", "capacity", 2 * GI)
    assert driver.volume_size("v1", "capacity") == 2 * GI
    assert driver.delete_volume("v1", "capacity") is True
    assert driver.delete_volume("v1", "capacity") is False
