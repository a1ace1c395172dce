"""A new image rolls out through a new ReplicaSet, never below replicas - maxUnavailable."""

import pytest
from kubernetes import client, watch

from .support import pods_of, wait_until

pytestmark = pytest.mark.e2e

REPLICAS = 4
MAX_UNAVAILABLE = 1
MAX_SURGE = 1


def rolling_deployment() -> client.V1Deployment:
    labels = {"app": "rollout"}
    return client.V1Deployment(
        metadata=client.V1ObjectMeta(name="rollout"),
        spec=client.V1DeploymentSpec(
            replicas=REPLICAS,
            # Pods count as available one second after Ready, so the rollout takes several
            # observable steps even though KWOK starts pods at once.
            min_ready_seconds=1,
            selector=client.V1LabelSelector(match_labels=labels),
            strategy=client.V1DeploymentStrategy(
                type="RollingUpdate",
                rolling_update=client.V1RollingUpdateDeployment(
                    max_unavailable=MAX_UNAVAILABLE, max_surge=MAX_SURGE
                ),
            ),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=client.V1PodSpec(
                    containers=[client.V1Container(name="web", image="nginx:1.26")]
                ),
            ),
        ),
    )


def test_image_change_rolls_out_within_max_unavailable(
    core: client.CoreV1Api, apps: client.AppsV1Api, namespace: str
) -> None:
    apps.create_namespaced_deployment(namespace, rolling_deployment())
    wait_until(
        f"{REPLICAS} available replicas",
        lambda: (
            apps.read_namespaced_deployment("rollout", namespace).status.available_replicas
            == REPLICAS
        ),
    )
    (first,) = apps.list_namespaced_replica_set(namespace, label_selector="app=rollout").items

    patch = {
        "spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}
    }
    changed = apps.patch_namespaced_deployment("rollout", namespace, patch)
    wanted: list[int] = []
    observed = _follow_rollout(apps, namespace, changed, wanted)

    assert min(s.available_replicas or 0 for s in observed) >= REPLICAS - MAX_UNAVAILABLE
    # maxSurge bounds the pods the controller asks for (the ReplicaSets' spec.replicas, read in
    # one list); the Deployment's status.replicas may briefly still count a pod being replaced.
    assert max(wanted) <= REPLICAS + MAX_SURGE
    # The rollout went in steps: some observed state had old and new pods side by side.
    assert any(0 < (s.updated_replicas or 0) < REPLICAS for s in observed)

    sets = {
        rs.metadata.name: rs
        for rs in apps.list_namespaced_replica_set(namespace, label_selector="app=rollout").items
    }
    assert len(sets) == 2
    new = next(rs for name, rs in sets.items() if name != first.metadata.name)
    assert new.spec.template.spec.containers[0].image == "nginx:1.27"
    assert new.metadata.annotations["deployment.kubernetes.io/revision"] == "2"
    assert new.status.ready_replicas == REPLICAS
    assert sets[first.metadata.name].spec.replicas == 0
    images = {p.spec.containers[0].image for p in pods_of(core, namespace, "app=rollout")}
    assert images == {"nginx:1.27"}


def _follow_rollout(
    apps: client.AppsV1Api, namespace: str, changed: client.V1Deployment, wanted: list[int]
) -> list[client.V1DeploymentStatus]:
    """Every status the Deployment reports after the image change, until the rollout is done;
    with each, the pods its ReplicaSets asked for then (appended to `wanted`)."""
    observed = []
    stream = watch.Watch()
    for event in stream.stream(
        apps.list_namespaced_deployment,
        namespace,
        field_selector="metadata.name=rollout",
        resource_version=changed.metadata.resource_version,
        timeout_seconds=90,
    ):
        status = event["object"].status
        if (status.observed_generation or 0) < changed.metadata.generation:
            continue
        observed.append(status)
        sets = apps.list_namespaced_replica_set(namespace, label_selector="app=rollout").items
        wanted.append(sum(rs.spec.replicas or 0 for rs in sets))
        done = (
            status.updated_replicas == REPLICAS
            and status.available_replicas == REPLICAS
            and status.replicas == REPLICAS
        )
        if done:
            stream.stop()
    assert observed and observed[-1].available_replicas == REPLICAS, "rollout did not finish"
    return observed
