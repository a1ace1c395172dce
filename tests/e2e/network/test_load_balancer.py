"""Acceptance of the load-balancer controller, through the gateway, against the local cluster.

- wordpress (../shared/inputs/wordpress-lb-pvc.yaml, unchanged documents) gets a pool address
  on its LoadBalancer Service; scaling its Deployment changes the LB members within seconds,
  with lb.member_added / lb.member_removed events; deleting the Service returns the address.
- 20 concurrent LoadBalancer Services against the 16-address pool: 16 distinct addresses, 4
  clear refusals (pending, reason pool_exhausted, a Warning Event, lb.allocation_refused),
  none shared.
See conftest.py for what is real (everything).
"""

from __future__ import annotations

import copy
import ipaddress
import uuid

import eventlet
import pytest
import yaml
from kubernetes import client as k8s

from tests.interface.gateway.conftest import Client

from .conftest import kata, load_input, wait_until

P = "/api/v1/projects/{}"
POOL_ADDRESSES = {
    str(ipaddress.ip_address(int(ipaddress.ip_address("198.51.100.10")) + n)) for n in range(16)
}


def _pool_free(rpc) -> bool:
    return rpc.network.pool_state()["free"] == 16


def _service_ip(core, namespace: str, name: str) -> str | None:
    svc = core.read_namespaced_service(name, namespace)
    ingress = (svc.status.load_balancer and svc.status.load_balancer.ingress) or []
    return ingress[0].ip if ingress else None


def _scale(apps, namespace: str, name: str, replicas: int) -> None:
    apps.patch_namespaced_deployment_scale(name, namespace, {"spec": {"replicas": replicas}})


def test_wordpress_gets_an_address_members_follow_pods_and_delete_returns_it(
    client, world, rpc, core, apps, project_namespace, events
) -> None:
    project = world["projects"]["own"]
    token = world["tokens"]["user"]
    ns = project_namespace(project)
    service_doc, claim_doc, deployment_doc = load_input("wordpress-lb-pvc.yaml")
    wait_until("a free pool", lambda: _pool_free(rpc))

    reply = client.call(
        "POST",
        P.format(project) + "/services",
        token=token,
        json_body={"namespace": ns, "yaml": yaml.safe_dump(service_doc)},
    )
    assert reply.status == 201, reply.body
    address = reply.body["load_balancer"]["address"]
    assert reply.body["load_balancer"]["state"] == "allocated" and address in POOL_ADDRESSES
    assert _service_ip(core, ns, "wordpress") == address

    reply = client.call(
        "POST",
        P.format(project) + "/volume-claims",
        token=token,
        json_body={"namespace": ns, "yaml": yaml.safe_dump(claim_doc)},
    )
    assert reply.status == 201, reply.body
    wait_until(
        "wp-pv-claim bound",
        lambda: (
            core.read_namespaced_persistent_volume_claim("wp-pv-claim", ns).status.phase == "Bound"
        ),
    )

    deployment = copy.deepcopy(deployment_doc)
    deployment["spec"]["template"]["spec"] = kata(deployment["spec"]["template"]["spec"])
    deployment["spec"]["replicas"] = 1
    apps.create_namespaced_deployment(ns, deployment)
    members = lambda: rpc.network.lb_status(ns, "wordpress")["members"]  # noqa: E731
    wait_until("one LB member", lambda: len(members()) == 1)

    _scale(apps, ns, "wordpress", 3)
    wait_until("three LB members", lambda: len(members()) == 3, timeout=20)
    added = events.wait_for(
        "3 lb.member_added",
        lambda: len(events.matching("lb.member_added", namespace=ns, name="wordpress")) == 3,
    )
    assert added
    for event in events.matching("lb.member_added", namespace=ns):
        assert event["data"]["address"] == address and event["project"] == project

    _scale(apps, ns, "wordpress", 1)
    wait_until("one LB member again", lambda: len(members()) == 1, timeout=30)
    events.wait_for(
        "2 lb.member_removed",
        lambda: len(events.matching("lb.member_removed", namespace=ns, name="wordpress")) == 2,
    )

    reply = client.call(
        "DELETE",
        P.format(project) + "/services/wordpress",
        token=token,
        params={"namespace": ns, "kind": "Service"},
    )
    assert reply.status == 200 and reply.body["deleted"] is True
    assert rpc.network.lb_status(ns, "wordpress")["state"] == "none"
    assert address not in rpc.network.pool_state()["allocated"]
    events.wait_for(
        "lb.address_released",
        lambda: [
            e
            for e in events.matching("lb.address_released", namespace=ns)
            if e["data"]["address"] == address
        ],
    )


def test_twenty_concurrent_load_balancers_against_sixteen_addresses(
    client, world, rpc, core, project_namespace, events
) -> None:
    project = world["projects"]["own"]
    token = world["tokens"]["user"]
    ns = project_namespace(project)
    wait_until("a free pool", lambda: _pool_free(rpc), timeout=60)

    def create(n: int) -> tuple[int, dict]:
        own_client = Client(client.base)  # one HTTP session per greenthread
        body = {
            "namespace": ns,
            "name": f"lb-{n:02d}",
            "type": "LoadBalancer",
            "ports": [{"port": 80}],
            "selector": {"app": f"a{n}"},
        }
        reply = own_client.call(
            "POST", P.format(project) + "/services", token=token, json_body=body
        )
        return reply.status, reply.body

    answers = list(eventlet.GreenPool(20).imap(create, range(20)))
    assert [status for status, _ in answers] == [201] * 20, answers
    states = [body["load_balancer"] for _, body in answers]
    addresses = [s["address"] for s in states if s["state"] == "allocated"]
    refused = [s for s in states if s["state"] == "pending"]
    assert len(addresses) == 16 == len(set(addresses)) and set(addresses) == POOL_ADDRESSES
    assert len(refused) == 4
    assert all(s["reason"] == "pool_exhausted" and s["address"] is None for s in refused)

    # The cluster agrees: 16 distinct ingress IPs, 4 Services pending with a Warning Event.
    ips = [_service_ip(core, ns, f"lb-{n:02d}") for n in range(20)]
    assert sorted(ip for ip in ips if ip) == sorted(addresses)
    pending = {f"lb-{n:02d}" for n, ip in enumerate(ips) if ip is None}
    assert len(pending) == 4
    warnings = wait_until(
        "AllocationFailed Events",
        lambda: (
            {
                e.involved_object.name
                for e in core.list_namespaced_event(ns).items
                if e.reason == "AllocationFailed"
            }
            == pending
            or None
        ),
    )
    assert warnings
    events.wait_for(
        "4 lb.allocation_refused",
        lambda: len(events.matching("lb.allocation_refused", namespace=ns)) == 4,
    )

    # Deleting one allocated Service gives its address to one of the pending ones.
    freed_name = next(f"lb-{n:02d}" for n, ip in enumerate(ips) if ip)
    freed = _service_ip(core, ns, freed_name)
    reply = client.call(
        "DELETE",
        P.format(project) + f"/services/{freed_name}",
        token=token,
        params={"namespace": ns},
    )
    assert reply.status == 200
    taken = wait_until(
        "a pending Service served",
        lambda: [name for name in pending if _service_ip(core, ns, name) == freed],
        timeout=20,
    )
    assert len(taken) == 1

    listed = client.call(
        "GET", P.format(project) + "/services", token=token, params={"namespace": ns}
    )
    assert listed.status == 200 and len(listed.body["items"]) == 19
    for n in range(20):
        client.call(
            "DELETE",
            P.format(project) + f"/services/lb-{n:02d}",
            token=token,
            params={"namespace": ns},
        )
    wait_until("the pool free again", lambda: _pool_free(rpc), timeout=30)


def test_a_kubectl_created_load_balancer_is_served_and_released_by_the_watch(
    world, rpc, core, project_namespace
) -> None:
    ns = project_namespace(world["projects"]["own"])
    wait_until("a free address", lambda: rpc.network.pool_state()["free"] > 0, timeout=60)
    name = f"direct-{uuid.uuid4().hex[:6]}"
    body = k8s.V1Service(
        metadata=k8s.V1ObjectMeta(name=name),
        spec=k8s.V1ServiceSpec(type="LoadBalancer", ports=[k8s.V1ServicePort(port=443)]),
    )
    core.create_namespaced_service(ns, body)
    address = wait_until("an address from the watch", lambda: _service_ip(core, ns, name))
    assert address in POOL_ADDRESSES
    core.delete_namespaced_service(name, ns)
    wait_until(
        "the address released", lambda: address not in rpc.network.pool_state()["allocated"]
    )


@pytest.mark.parametrize("kind", ["Ingress"])
def test_an_ingress_is_created_updated_and_deleted(
    client, world, networking, project_namespace, kind
) -> None:
    project = world["projects"]["own"]
    token = world["tokens"]["user"]
    ns = project_namespace(project)
    path = P.format(project) + "/services"
    body = {
        "namespace": ns,
        "kind": kind,
        "name": "site",
        "rules": [{"host": "site.example", "service": "web", "port": 80}],
    }
    assert client.call("POST", path, token=token, json_body=body).status == 201
    body["rules"][0]["host"] = "www.site.example"
    reply = client.call("PUT", f"{path}/site", token=token, json_body=body)
    assert reply.status == 200 and reply.body["hosts"] == ["www.site.example"]
    live = networking.read_namespaced_ingress("site", ns)
    assert live.spec.rules[0].host == "www.site.example"
    reply = client.call(
        "DELETE", f"{path}/site", token=token, params={"namespace": ns, "kind": kind}
    )
    assert reply.status == 200 and reply.body["deleted"] is True


def test_a_service_is_created_updated_edited_as_yaml_and_listed(
    client, world, core, project_namespace
) -> None:
    project, token = world["projects"]["own"], world["tokens"]["user"]
    ns = project_namespace(project)
    path = P.format(project) + "/services"
    body = {
        "namespace": ns,
        "name": "api",
        "ports": [{"port": 8080, "target_port": "http"}],
        "selector": {"app": "api"},
    }
    created = client.call("POST", path, token=token, json_body=body)
    assert created.status == 201 and created.body["type"] == "ClusterIP"
    cluster_ip = created.body["cluster_ip"]

    reply = client.call("PUT", f"{path}/api", token=token, json_body={**body, "type": "NodePort"})
    assert reply.status == 200 and reply.body["type"] == "NodePort", reply.body
    node_port = reply.body["ports"][0]["nodePort"]
    assert 30000 <= node_port <= 32767 and reply.body["cluster_ip"] == cluster_ip

    live = client.call("GET", path, token=token, params={"namespace": ns}).body["items"][0]
    document = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "api"},
        "spec": {
            "type": "NodePort",
            "selector": {"app": "api", "tier": "web"},
            "ports": [{"port": 8080, "targetPort": "http"}],
        },
    }
    reply = client.call(
        "PUT",
        f"{path}/api/yaml",
        token=token,
        json_body={"namespace": ns, "yaml": yaml.safe_dump(document)},
    )
    assert reply.status == 200, reply.body
    assert reply.body["selector"] == {"app": "api", "tier": "web"}
    assert reply.body["ports"][0]["nodePort"] == node_port  # kept across the edit
    assert live["uid"] == reply.body["uid"]
    svc = core.read_namespaced_service("api", ns)
    assert svc.spec.selector == {"app": "api", "tier": "web"}

    bad = client.call(
        "PUT",
        f"{path}/api/yaml",
        token=token,
        json_body={"namespace": ns, "yaml": "kind: Service\nmetadata: [oops"},
    )
    assert bad.status == 400 and "yaml" in bad.body["details"]["fields"]
    foreign = client.call(
        "POST", path, token=world["tokens"]["other_user"], json_body={**body, "name": "x"}
    )
    assert foreign.status == 403


def test_a_namespace_of_another_project_is_refused(client, world, project_namespace) -> None:
    project, token = world["projects"]["own"], world["tokens"]["user"]
    theirs = project_namespace(world["projects"]["other"])
    body = {"namespace": theirs, "name": "sneaky", "type": "LoadBalancer", "ports": [{"port": 80}]}
    reply = client.call("POST", P.format(project) + "/services", token=token, json_body=body)
    assert reply.status == 403 and reply.code == "namespace_not_in_project", reply.body
    assert "namespace" in reply.body["details"]["fields"]
    listed = client.call(
        "GET", P.format(project) + "/services", token=token, params={"namespace": theirs}
    )
    assert listed.status == 403


def test_a_host_served_by_one_project_is_refused_to_another(
    client, world, project_namespace
) -> None:
    own, other = world["projects"]["own"], world["projects"]["other"]
    host = f"shop-{uuid.uuid4().hex[:6]}.example"
    first_ns, second_ns = project_namespace(own), project_namespace(other)

    def ingress(ns: str, name: str) -> dict:
        return {
            "namespace": ns,
            "kind": "Ingress",
            "name": name,
            "rules": [{"host": host, "service": "web", "port": 80}],
        }

    first = client.call(
        "POST",
        P.format(own) + "/services",
        token=world["tokens"]["user"],
        json_body=ingress(first_ns, "shop"),
    )
    assert first.status == 201, first.body
    taken = client.call(
        "POST",
        P.format(other) + "/services",
        token=world["tokens"]["cloud_admin"],
        json_body=ingress(second_ns, "shop-copy"),
    )
    assert taken.status == 409, taken.body
    assert taken.body["code"] == "ingress_host_taken"
    assert taken.body["details"]["field"] == "spec.rules[0].host"
    # The owning project may serve the host from a second Ingress.
    again = client.call(
        "POST",
        P.format(own) + "/services",
        token=world["tokens"]["user"],
        json_body=ingress(first_ns, "shop-2"),
    )
    assert again.status == 201, again.body
