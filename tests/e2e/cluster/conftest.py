"""Fixtures for the acceptance tests of the local Kubernetes control plane (deploy/cluster).

What is real: etcd, kube-apiserver (admission, quota, RBAC, aggregation), kube-controller-manager
(Deployment, ReplicaSet, Job, HPA, quota and node controllers), kube-scheduler and metrics-server
are the upstream programs, built from their Go modules and started by `make cluster-up`.

What is faked, by KWOK: the kubelets. Nodes come from the declared profile
(deploy/cluster/nodes.yaml); a pod bound to a node is marked Running and Ready with an IP but no
container runs; a Job's pod completes after a second; CPU and memory usage is whatever the pod's
`kwok.x-k8s.io/usage-cpu` / `kwok.x-k8s.io/usage-memory` annotations say, served as the kubelet's
/metrics/resource so that metrics-server and the HPA controller see it.

The tests talk to the cluster named by $KUBECONFIG, else by $SCS_KUBECONFIG, else the file
`make cluster-up` writes (~/.local/state/scs/kubeconfig). Each test works in its own namespace
and deletes it afterwards.
"""

import uuid
from collections.abc import Iterator

import pytest
import yaml
from kubernetes import client

from tests.e2e.kube import cluster_client

from .support import PROFILE, wait_until


@pytest.fixture(scope="session")
def api_client() -> Iterator[client.ApiClient]:
    api = cluster_client()
    yield api
    api.close()


@pytest.fixture(scope="session")
def core(api_client: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api_client)


@pytest.fixture(scope="session")
def apps(api_client: client.ApiClient) -> client.AppsV1Api:
    return client.AppsV1Api(api_client)


@pytest.fixture(scope="session")
def profile() -> dict:
    return yaml.safe_load(PROFILE.read_text())


@pytest.fixture
def namespace(core: client.CoreV1Api) -> Iterator[str]:
    """A fresh namespace, usable once its default ServiceAccount exists; deleted afterwards."""
    name = f"e2e-cluster-{uuid.uuid4().hex[:8]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    wait_until(
        f"the default ServiceAccount in {name}",
        lambda: (
            core.list_namespaced_service_account(
                name, field_selector="metadata.name=default"
            ).items
        ),
    )
    yield name
    core.delete_namespace(name, propagation_policy="Background")
