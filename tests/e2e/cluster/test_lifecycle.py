"""KWOK's pod lifecycle: Jobs complete, pods get IPs and a log, deleted pods go away."""

import pytest
from kubernetes import client, utils

from .support import is_running_and_ready, load_input, pods_of, wait_until

pytestmark = pytest.mark.e2e


def test_job_from_shared_inputs_completes(api_client: client.ApiClient, namespace: str) -> None:
    (job,) = load_input("job-pi.yaml")
    utils.create_from_dict(api_client, job, namespace=namespace)
    batch = client.BatchV1Api(api_client)

    def complete() -> bool:
        status = batch.read_namespaced_job_status(job["metadata"]["name"], namespace).status
        return any(c.type == "Complete" and c.status == "True" for c in status.conditions or [])

    wait_until("the Job to complete", complete)
    status = batch.read_namespaced_job_status(job["metadata"]["name"], namespace).status
    assert status.succeeded == 1


def test_pod_runs_with_a_log_and_goes_away_when_deleted(
    core: client.CoreV1Api, namespace: str
) -> None:
    spec = client.V1PodSpec(containers=[client.V1Container(name="app", image="nginx:1.27")])
    core.create_namespaced_pod(
        namespace,
        client.V1Pod(
            metadata=client.V1ObjectMeta(name="short", labels={"app": "short"}), spec=spec
        ),
    )
    (pod,) = wait_until(
        "the pod to run",
        lambda: [p for p in pods_of(core, namespace, "app=short") if is_running_and_ready(p)],
    )
    assert pod.status.host_ip == "127.0.0.1"
    assert pod.status.pod_ip
    # Read through the apiserver's kubelet connection, served by KWOK.
    assert "emulated by KWOK" in core.read_namespaced_pod_log("short", namespace)

    # The default 30 s grace period: KWOK, playing the kubelet, removes the pod at once.
    core.delete_namespaced_pod("short", namespace)
    wait_until(
        "the pod to be gone",
        lambda: (
            not core.list_namespaced_pod(namespace, field_selector="metadata.name=short").items
        ),
        timeout=20,
    )
