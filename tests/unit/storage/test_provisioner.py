"""The provisioner (provisioner.py) with a fake cluster and a fake quota service.

Real: the database, the sparse-file driver (files in tmp_path), the outbox. Faked: the
Kubernetes API and the quota service (see conftest.py for what each fake does).
"""

import os

from sqlalchemy import select

from services.storage import claims, provisioner
from services.storage.models import OutboxEvent

GI = 2**30


def _events(ctx):
    with ctx.db.transaction() as session:
        return [(r.event_type, r.payload["data"]) for r in session.scalars(select(OutboxEvent))]


def _claim(cluster, name, storage_class, size, namespace="vision-dev"):
    body = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "storageClassName": storage_class,
            "resources": {"requests": {"storage": size}},
        },
    }
    return cluster.create_claim(body)


def test_a_claim_is_provisioned_bound_charged_and_deleted(
    storage_ctx, fake_cluster, fake_quota
) -> None:
    pvc = _claim(fake_cluster, "data", "high-performance", "2Gi")
    assert provisioner.handle_claim(storage_ctx, "ADDED", pvc) == "provisioned"
    assert provisioner.handle_claim(storage_ctx, "ADDED", pvc) == "unchanged"  # redelivered

    pv = fake_cluster.volumes[f"pvc-{pvc['metadata']['uid']}"]
    assert pv["spec"]["claimRef"]["uid"] == pvc["metadata"]["uid"]
    assert pv["spec"]["storageClassName"] == "high-performance"
    assert os.path.getsize(pv["spec"]["hostPath"]["path"]) == 2 * GI  # sparse, full size
    key = f"pvc-{pvc['metadata']['uid']}"
    assert fake_quota.reservations[key]["status"] == "reserved"
    assert fake_quota.reservations[key]["items"] == {
        "storage.high-performance": {"requested": 2 * GI, "overhead": 0}
    }

    bound = fake_cluster.bind("vision-dev", "data")
    provisioner.handle_claim(storage_ctx, "MODIFIED", bound)
    assert fake_quota.reservations[key]["status"] == "committed"

    fake_cluster.remove_claim("vision-dev", "data")
    assert provisioner.handle_claim(storage_ctx, "DELETED", bound) == "waiting for the volume"
    released = fake_cluster.read_volume(pv["metadata"]["name"])
    assert provisioner.handle_volume(storage_ctx, "MODIFIED", released) == "deleted"
    assert not os.path.exists(pv["spec"]["hostPath"]["path"])
    assert pv["metadata"]["name"] not in fake_cluster.volumes
    assert fake_quota.reservations[key]["status"] == "released"
    assert [t for t, _ in _events(storage_ctx)] == ["volume.provisioned", "volume.deleted"]
    assert _events(storage_ctx)[0][1]["storage_class"] == "high-performance"
    assert _events(storage_ctx)[0][1]["size_bytes"] == 2 * GI


def test_expansion_grows_volume_pv_and_claim_status(storage_ctx, fake_cluster, fake_quota):
    pvc = _claim(fake_cluster, "data", "capacity", "1Gi")
    provisioner.handle_claim(storage_ctx, "ADDED", pvc)
    provisioner.handle_claim(storage_ctx, "MODIFIED", fake_cluster.bind("vision-dev", "data"))

    fake_cluster.patch_claim(
        "vision-dev", "data", {"spec": {"resources": {"requests": {"storage": "3Gi"}}}}
    )
    grown = fake_cluster.read_claim("vision-dev", "data")
    assert provisioner.handle_claim(storage_ctx, "MODIFIED", grown) == "expanded"
    assert fake_cluster.claims[("vision-dev", "data")]["status"]["capacity"]["storage"] == str(
        3 * GI
    )
    pv_name = f"pvc-{pvc['metadata']['uid']}"
    assert fake_cluster.volumes[pv_name]["spec"]["capacity"]["storage"] == str(3 * GI)
    assert fake_quota.used("storage.capacity") == 3 * GI
    assert (
        "volume.expanded",
        {
            "storage_class": "capacity",
            "size_bytes": 3 * GI,
            "volume": pv_name,
            "previous_size_bytes": GI,
        },
    ) in _events(storage_ctx)


def test_over_quota_claims_and_expansions_are_refused_once(
    storage_ctx, fake_cluster, fake_quota
) -> None:
    fake_quota.limits["storage.capacity"] = 2 * GI
    big = _claim(fake_cluster, "big", "capacity", "5Gi")
    assert provisioner.handle_claim(storage_ctx, "ADDED", big) == "refused"
    assert provisioner.handle_claim(storage_ctx, "MODIFIED", big) == "refused"
    assert fake_cluster.volumes == {}
    assert [e for e in fake_cluster.kube_events if e[0] == "big"] == [
        ("big", "ProvisioningFailed")
    ]

    small = _claim(fake_cluster, "small", "capacity", "1Gi")
    provisioner.handle_claim(storage_ctx, "ADDED", small)
    provisioner.handle_claim(storage_ctx, "MODIFIED", fake_cluster.bind("vision-dev", "small"))
    fake_cluster.patch_claim(
        "vision-dev", "small", {"spec": {"resources": {"requests": {"storage": "3Gi"}}}}
    )
    grown = fake_cluster.read_claim("vision-dev", "small")
    assert provisioner.handle_claim(storage_ctx, "MODIFIED", grown) == "refused"
    assert provisioner.handle_claim(storage_ctx, "MODIFIED", grown) == "refused"
    types = [t for t, _ in _events(storage_ctx)]
    assert types.count("volume.provisioning_refused") == 1
    assert types.count("volume.expansion_refused") == 1
    assert fake_quota.used("storage.capacity") == GI

    # The limit is raised: the refused claim is provisioned on the next try.
    fake_quota.limits["storage.capacity"] = 10 * GI
    assert provisioner.handle_claim(storage_ctx, "MODIFIED", big) == "provisioned"


def test_claims_of_other_classes_or_unserved_namespaces_are_ignored(storage_ctx, fake_cluster):
    other = _claim(fake_cluster, "x", "someone-elses", "1Gi")
    assert provisioner.handle_claim(storage_ctx, "ADDED", other) == "ignored"
    fake_cluster.namespaces["plain"] = {"metadata": {"name": "plain", "labels": {}}}
    unserved = _claim(fake_cluster, "y", "capacity", "1Gi", namespace="plain")
    assert provisioner.handle_claim(storage_ctx, "ADDED", unserved) == "ignored"


def test_the_api_refuses_growth_past_quota_before_touching_the_claim(
    storage_ctx, fake_cluster, fake_quota
) -> None:
    fake_quota.limits["storage.high-performance"] = 4 * GI
    form = {
        "name": "db",
        "storage_class": "high-performance",
        "size_bytes": 2 * GI,
        "access_modes": ["ReadWriteOnce"],
        "labels": {},
    }
    created = claims.create_claim(storage_ctx, "p1", "vision-dev", form, "u1")
    pvc = fake_cluster.read_claim("vision-dev", "db")
    provisioner.handle_claim(storage_ctx, "ADDED", pvc)
    provisioner.handle_claim(storage_ctx, "MODIFIED", fake_cluster.bind("vision-dev", "db"))
    assert created["storage_class"] == "high-performance"
    assert fake_quota.used("storage.high-performance") == 2 * GI  # one reservation, not two

    try:
        claims.expand_claim(storage_ctx, "p1", "vision-dev", "db", 8 * GI, "u1")
        raise AssertionError("the expansion should have been refused")
    except Exception as exc:
        assert getattr(exc, "code", None) == "quota_exceeded"
        assert exc.http_status == 422
    assert fake_cluster.read_claim("vision-dev", "db")["spec"]["resources"]["requests"][
        "storage"
    ] == str(2 * GI)


def test_a_reservation_that_expired_before_binding_is_renewed(
    storage_ctx, fake_cluster, fake_quota
) -> None:
    pvc = _claim(fake_cluster, "slow", "capacity", "1Gi")
    provisioner.handle_claim(storage_ctx, "ADDED", pvc)
    key = f"pvc-{pvc['metadata']['uid']}"
    fake_quota.expire(key)  # binding took longer than the reservation's TTL

    provisioner.handle_claim(storage_ctx, "MODIFIED", fake_cluster.bind("vision-dev", "slow"))
    assert fake_quota.reservations[f"{key}.renewed-1"]["status"] == "committed"
    assert fake_quota.used("storage.capacity") == GI  # charged once

    fake_cluster.remove_claim("vision-dev", "slow")
    released = fake_cluster.read_volume(key)
    provisioner.handle_volume(storage_ctx, "MODIFIED", released)
    assert fake_quota.used("storage.capacity") == 0
