"""Acceptance of tenant isolation against the local cluster.

A `namespace.created` event (what the cluster service publishes) makes the network service
install the project's NetworkPolicy and answer `namespace.setup_done` {step: network}. The
policies are then read back and evaluated with the NetworkPolicy rules for ingress from
namespaces (the cluster has no CNI that enforces them; the objects are what is checked): a pod
of project A is admitted from A's other namespace and refused from project B's.
"""

from __future__ import annotations

import uuid
from typing import Any

from kombu import Connection, Exchange, Producer

from shared.events import new_event

from .conftest import wait_until

POLICY = "scs-project-isolation"


def admits(policy: Any, source_labels: dict[str, str]) -> bool:
    """Does this policy admit ingress from a pod in a namespace with `source_labels`?"""
    if "Ingress" not in (policy.spec.policy_types or []):
        return True
    for rule in policy.spec.ingress or []:
        for peer in rule._from or []:
            selector = peer.namespace_selector
            if selector is None:  # a pod selector alone means this namespace only
                continue
            wanted = selector.match_labels or {}
            if all(source_labels.get(k) == v for k, v in wanted.items()) and not (
                selector.match_expressions
            ):
                return True
    return False


def _publish_namespace_created(amqp_uri: str, namespace: str, project: str) -> None:
    event = new_event(
        "namespace.created",
        actor="system",
        project=project,
        resource={"kind": "Namespace", "name": namespace},
        data={"name": namespace},
    )
    with Connection(amqp_uri) as connection:
        exchange = Exchange("scs.events", type="topic", durable=True)
        Producer(connection.channel(), exchange=exchange).publish(
            event, routing_key=event["type"], serializer="json", declare=[exchange]
        )


def test_project_namespaces_admit_each_other_and_refuse_other_projects(
    world, suite_config, core, networking, project_namespace, events
) -> None:
    own, other = world["projects"]["own"], world["projects"]["other"]
    a1, a2, b1 = project_namespace(own), project_namespace(own), project_namespace(other)
    for ns, project in ((a1, own), (a2, own), (b1, other)):
        _publish_namespace_created(suite_config["AMQP_URI"], ns, project)
    events.wait_for(
        "setup_done for the three namespaces",
        lambda: (
            {
                e["data"]["namespace"]
                for e in events.matching("namespace.setup_done")
                if e["data"]["step"] == "network"
            }
            >= {a1, a2, b1}
        ),
    )

    labels = {ns: core.read_namespace(ns).metadata.labels for ns in (a1, a2, b1)}
    policy_a1 = networking.read_namespaced_network_policy(POLICY, a1)
    policy_b1 = networking.read_namespaced_network_policy(POLICY, b1)
    assert policy_a1.spec.pod_selector.match_labels in (None, {})  # every pod of the namespace
    assert admits(policy_a1, labels[a2]) and admits(policy_a1, labels[a1])
    assert not admits(policy_a1, labels[b1])
    assert admits(policy_b1, labels[b1]) and not admits(policy_b1, labels[a1])


def test_ensure_isolation_rpc_is_idempotent_and_refuses_foreign_namespaces(
    world, rpc, networking, project_namespace
) -> None:
    own = world["projects"]["own"]
    ns = project_namespace(own)
    first = rpc.network.ensure_isolation(ns, own)
    second = rpc.network.ensure_isolation(ns, own)
    assert first["created"] is True and second["created"] is False
    assert len(networking.list_namespaced_network_policy(ns).items) == 1
    try:
        rpc.network.ensure_isolation(ns, world["projects"]["other"])
        raise AssertionError("a namespace of another project was accepted")
    except Exception as exc:
        assert getattr(exc, "code", None) == "namespace_not_in_project"
    missing = f"missing-{uuid.uuid4().hex[:6]}"
    wait_until("refusal of a missing namespace", lambda: _refused(rpc, missing, own))


def _refused(rpc: Any, namespace: str, project: str) -> bool:
    try:
        rpc.network.ensure_isolation(namespace, project)
    except Exception as exc:
        return getattr(exc, "code", None) == "network_object_not_found"
    return False
