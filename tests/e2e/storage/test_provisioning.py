"""Acceptance of the storage service, through the gateway, against the local cluster.

- a claim of each class is provisioned (backing sparse file, PV with claimRef) and bound by the
  cluster's PV controller, with volume.provisioned events carrying class and size;
- an expansion past the class quota is refused (422 quota_exceeded, the claim unchanged); one
  within it grows the PV and the claim's capacity, with volume.expanded;
- wordpress's claim without storageClassName gets the default class and binds; the
  volumeClaimTemplates of web-statefulset produce claims that bind;
- deleting a claim deletes its volume (reclaim policy Delete) and returns the quota;
- PV and StorageClass views for admins.
See tests/e2e/network/conftest.py for what is real (everything).
"""

from __future__ import annotations

import copy
import os

import yaml

from tests.e2e.network.conftest import kata, load_input, wait_until

P = "/api/v1/projects/{}"
GI = 2**30


def _phase(core, ns: str, name: str) -> str | None:
    return core.read_namespaced_persistent_volume_claim(name, ns).status.phase


def _used(client, token, project, resource) -> int:
    usage = client.call("GET", P.format(project) + "/quota", token=token).body
    return int(usage["resources"].get(resource, {}).get("used", 0))


def _create(client, token, project, ns, name, storage_class, size):
    body = {"namespace": ns, "name": name, "size": size}
    if storage_class:
        body["storage_class"] = storage_class
    return client.call("POST", P.format(project) + "/volume-claims", token=token, json_body=body)


def test_a_claim_of_each_class_is_provisioned_and_bound(
    client, world, core, project_namespace, events
) -> None:
    project, token = world["projects"]["own"], world["tokens"]["user"]
    ns = project_namespace(project)
    for name, storage_class in (("fast", "high-performance"), ("bulk", "capacity")):
        reply = _create(client, token, project, ns, name, storage_class, "1Gi")
        assert reply.status == 201, reply.body
        assert reply.body["storage_class"] == storage_class
    for name in ("fast", "bulk"):
        wait_until(f"{name} bound", lambda n=name: _phase(core, ns, n) == "Bound")
        pvc = core.read_namespaced_persistent_volume_claim(name, ns)
        pv = core.read_persistent_volume(pvc.spec.volume_name)
        assert pv.spec.claim_ref.uid == pvc.metadata.uid
        assert pv.spec.storage_class_name == pvc.spec.storage_class_name
        assert os.path.getsize(pv.spec.host_path.path) == GI  # the sparse backing file
    provisioned = events.wait_for(
        "two volume.provisioned",
        lambda: (
            [e for e in events.matching("volume.provisioned", namespace=ns)]
            if len(events.matching("volume.provisioned", namespace=ns)) == 2
            else None
        ),
    )
    assert {e["data"]["storage_class"] for e in provisioned} == {"capacity", "high-performance"}
    assert {e["data"]["size_bytes"] for e in provisioned} == {GI}


def test_expansion_past_the_class_quota_is_refused(
    client, world, core, project_namespace, events
) -> None:
    project, token = world["projects"]["own"], world["tokens"]["user"]
    ns = project_namespace(project)
    # Claims of earlier tests go with their namespaces; start from an empty class.
    wait_until(
        "no high-performance storage in use",
        lambda: _used(client, token, project, "storage.high-performance") == 0,
        timeout=60,
    )
    limits = {"limits": {"storage.high-performance": 3 * GI}}
    reply = client.call(
        "PUT",
        P.format(project) + "/quota",
        token=world["tokens"]["department_admin"],
        json_body=limits,
    )
    assert reply.status == 200, reply.body
    try:
        assert _create(client, token, project, ns, "db", "high-performance", "2Gi").status == 201
        wait_until("db bound", lambda: _phase(core, ns, "db") == "Bound")

        path = P.format(project) + "/volume-claims/db"
        refused = client.call("PUT", path, token=token, json_body={"namespace": ns, "size": "5Gi"})
        assert refused.status == 422 and refused.code == "quota_exceeded", refused.body
        assert refused.body["details"]["resource"] == "storage.high-performance"
        pvc = core.read_namespaced_persistent_volume_claim("db", ns)
        assert pvc.spec.resources.requests["storage"] in ("2Gi", str(2 * GI))

        too_big = _create(client, token, project, ns, "more", "high-performance", "2Gi")
        assert too_big.status == 422 and too_big.code == "quota_exceeded"

        grown = client.call("PUT", path, token=token, json_body={"namespace": ns, "size": "3Gi"})
        assert grown.status == 200, grown.body
        wait_until(
            "capacity 3Gi",
            lambda: (
                (core.read_namespaced_persistent_volume_claim("db", ns).status.capacity or {}).get(
                    "storage"
                )
                in ("3Gi", str(3 * GI))
            ),
        )
        expanded = events.wait_for(
            "volume.expanded", lambda: events.matching("volume.expanded", namespace=ns, name="db")
        )
        assert expanded[0]["data"]["size_bytes"] == 3 * GI
        usage = client.call("GET", P.format(project) + "/quota", token=token).body
        assert usage["resources"]["storage.high-performance"]["used"] == 3 * GI
    finally:
        client.call(
            "PUT",
            P.format(project) + "/quota",
            token=world["tokens"]["department_admin"],
            json_body={"limits": {"storage.high-performance": 1000 * GI}},
        )


def test_default_class_and_statefulset_templates_bind(
    client, world, core, apps, project_namespace
) -> None:
    project, token = world["projects"]["own"], world["tokens"]["user"]
    ns = project_namespace(project)
    _, claim_doc, _ = load_input("wordpress-lb-pvc.yaml")
    assert "storageClassName" not in claim_doc["spec"]
    reply = client.call(
        "POST",
        P.format(project) + "/volume-claims",
        token=token,
        json_body={"namespace": ns, "yaml": yaml.safe_dump(claim_doc)},
    )
    assert reply.status == 201, reply.body
    wait_until("wp-pv-claim bound", lambda: _phase(core, ns, "wp-pv-claim") == "Bound")
    pvc = core.read_namespaced_persistent_volume_claim("wp-pv-claim", ns)
    assert pvc.spec.storage_class_name == "capacity"  # the default class

    headless, statefulset = load_input("web-statefulset.yaml")
    reply = client.call(
        "POST",
        P.format(project) + "/services",
        token=token,
        json_body={"namespace": ns, "yaml": yaml.safe_dump(headless)},
    )
    assert reply.status == 201, reply.body
    statefulset = copy.deepcopy(statefulset)
    statefulset["spec"]["template"]["spec"] = kata(statefulset["spec"]["template"]["spec"])
    apps.create_namespaced_stateful_set(ns, statefulset)
    for name in ("www-web-0", "www-web-1"):
        wait_until(f"{name} bound", lambda n=name: _claim_bound(core, ns, n), timeout=60)
    listed = client.call(
        "GET", P.format(project) + "/volume-claims", token=token, params={"namespace": ns}
    )
    assert {c["name"]: c["phase"] for c in listed.body["items"]} == {
        "wp-pv-claim": "Bound",
        "www-web-0": "Bound",
        "www-web-1": "Bound",
    }


def _claim_bound(core, ns: str, name: str) -> bool:
    found = core.list_namespaced_persistent_volume_claim(
        ns, field_selector=f"metadata.name={name}"
    ).items
    return bool(found) and found[0].status.phase == "Bound"


def test_deleting_a_claim_deletes_its_volume_and_returns_quota(
    client, world, core, project_namespace, events
):
    project, token = world["projects"]["own"], world["tokens"]["user"]
    ns = project_namespace(project)
    assert _create(client, token, project, ns, "scratch", None, "2Gi").status == 201
    wait_until("scratch bound", lambda: _phase(core, ns, "scratch") == "Bound")
    pv_name = core.read_namespaced_persistent_volume_claim("scratch", ns).spec.volume_name
    path = core.read_persistent_volume(pv_name).spec.host_path.path

    admin = world["tokens"]["project_admin"]
    volumes = client.call("GET", P.format(project) + "/storage/volumes", token=admin)
    assert pv_name in {v["name"] for v in volumes.body["items"]}
    pv_yaml = client.call(
        "GET", P.format(project) + f"/storage/volumes/{pv_name}/yaml", token=admin
    )
    assert pv_yaml.status == 200 and yaml.safe_load(pv_yaml.body["yaml"])["kind"] == (
        "PersistentVolume"
    )
    bound_delete = client.call(
        "DELETE", P.format(project) + f"/storage/volumes/{pv_name}", token=admin
    )
    assert bound_delete.status == 409  # a bound PV goes with its claim
    sc_yaml = client.call("GET", P.format(project) + "/storage/classes/capacity/yaml", token=admin)
    assert yaml.safe_load(sc_yaml.body["yaml"])["provisioner"] == "storage.scs.io/block"

    reply = client.call(
        "DELETE",
        P.format(project) + "/volume-claims/scratch",
        token=token,
        params={"namespace": ns},
    )
    assert reply.status == 200
    deleted = events.wait_for(
        "volume.deleted",
        lambda: events.matching("volume.deleted", namespace=ns, name="scratch"),
        timeout=30,
    )
    assert deleted[0]["data"] == {
        "storage_class": "capacity",
        "size_bytes": 2 * GI,
        "volume": pv_name,
    }
    wait_until(
        "the PV gone",
        lambda: not [v for v in core.list_persistent_volume().items if v.metadata.name == pv_name],
    )
    assert not os.path.exists(path)


def test_a_pod_with_two_claims_of_different_classes_runs_with_both_mounted(
    client, world, core, project_namespace
) -> None:
    """The storage side of "a workload with two volumes of different classes": the claims come
    from this service, the pod (what the workload service's form produces) from the test."""
    project, token = world["projects"]["own"], world["tokens"]["user"]
    ns = project_namespace(project)
    mounts = {"data": ("capacity", "/var/lib/data"), "cache": ("high-performance", "/cache")}
    for name, (storage_class, _) in mounts.items():
        assert _create(client, token, project, ns, name, storage_class, "1Gi").status == 201
    pod = {
        "metadata": {"name": "app"},
        "spec": kata(
            {
                "containers": [
                    {
                        "name": "app",
                        "image": "busybox:1.36",
                        "volumeMounts": [
                            {"name": name, "mountPath": path} for name, (_, path) in mounts.items()
                        ],
                    }
                ],
                "volumes": [
                    {"name": name, "persistentVolumeClaim": {"claimName": name}} for name in mounts
                ],
            }
        ),
    }
    core.create_namespaced_pod(ns, pod)
    wait_until(
        "the pod running",
        lambda: core.read_namespaced_pod("app", ns).status.phase == "Running",
        timeout=60,
    )
    live = core.read_namespaced_pod("app", ns)
    assert {m.mount_path for m in live.spec.containers[0].volume_mounts} >= {
        "/var/lib/data",
        "/cache",
    }
    classes = {
        name: core.read_namespaced_persistent_volume_claim(name, ns).spec.storage_class_name
        for name in mounts
    }
    assert classes == {"data": "capacity", "cache": "high-performance"}
    assert all(_phase(core, ns, name) == "Bound" for name in mounts)


def test_apply_manifest_contract_for_the_workload_service(
    world, rpc, core, project_namespace
) -> None:
    """What the workload service calls for the claims and Services a workload YAML carries."""
    project = world["projects"]["own"]
    ns = project_namespace(project)
    headless, _ = load_input("web-statefulset.yaml")
    _, claim_doc, _ = load_input("wordpress-lb-pvc.yaml")

    first = rpc.storage.apply_manifest(project, ns, claim_doc, "u1")
    again = rpc.storage.apply_manifest(project, ns, claim_doc, "u1")
    assert set(first) == {"kind", "namespace", "name", "uid"}
    assert first == again  # applied twice: one claim
    wait_until("the applied claim bound", lambda: _phase(core, ns, "wp-pv-claim") == "Bound")

    service = rpc.network.apply_manifest(project, ns, headless, "u1")
    assert service["kind"] == "Service" and service["name"] == "nginx"
    assert rpc.network.apply_manifest(project, ns, headless, "u1")["uid"] == service["uid"]
    assert rpc.network.delete_object(project, ns, "Service", "nginx", "u1")["deleted"] is True
    assert (
        rpc.storage.delete_object(project, ns, "PersistentVolumeClaim", "wp-pv-claim", "u1")[
            "deleted"
        ]
        is True
    )
    assert (
        rpc.storage.delete_object(project, ns, "PersistentVolumeClaim", "wp-pv-claim", "u1")[
            "deleted"
        ]
        is False
    )
