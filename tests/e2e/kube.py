"""The local cluster's API client for end-to-end tests (real cluster, nothing faked)."""

from __future__ import annotations

import os

import pytest
from kubernetes import client, config

from shared.config import kubeconfig_path


def cluster_client() -> client.ApiClient:
    """A client for the configured cluster; without a kubeconfig the test fails under CI and
    is skipped elsewhere, saying why."""
    path = kubeconfig_path()
    if not path.is_file():
        message = f"no kubeconfig at {path} (run `make cluster-up`, or set KUBECONFIG)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return config.new_client_from_config(config_file=str(path))
