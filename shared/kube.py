"""The Kubernetes client factory: a kubeconfig file, or the in-cluster service account.

Only a service's cluster-access module calls this; the rest of a service never imports
`kubernetes` (the import-linter contract in pyproject.toml keeps it so).
"""

from __future__ import annotations

import os

from kubernetes import client, config

from shared.config import kubeconfig_path


def api_client() -> client.ApiClient:
    """An ApiClient for the configured cluster.

    In a pod (KUBERNETES_SERVICE_HOST set and no kubeconfig given) the service account is
    used; otherwise the kubeconfig from KUBECONFIG, SCS_KUBECONFIG or the local control plane.
    """
    explicit = os.environ.get("KUBECONFIG") or os.environ.get("SCS_KUBECONFIG")
    if os.environ.get("KUBERNETES_SERVICE_HOST") and not explicit:
        configuration = client.Configuration()
        config.load_incluster_config(client_configuration=configuration)
        return client.ApiClient(configuration)
    return config.new_client_from_config(config_file=str(kubeconfig_path()))
