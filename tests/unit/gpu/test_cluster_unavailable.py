"""The gpu service's cluster module answers a refused connection with a short reason; the
host, port and path go to the WARNING log. Faked: the failing call (it raises what urllib3
raises when the apiserver refuses the connection)."""

import logging

import pytest
import urllib3

from services.gpu import cluster
from services.gpu.exceptions import ClusterUnavailable


def test_a_refused_connection_names_no_host_port_or_path(
    caplog: pytest.LogCaptureFixture,
) -> None:
    reason = urllib3.exceptions.NewConnectionError(
        None, "Failed to establish a new connection: [Errno 111] Connection refused"
    )
    raised = urllib3.exceptions.MaxRetryError(None, "/api/v1/nodes", reason)

    def call() -> None:
        raise raised

    with caplog.at_level(logging.WARNING, logger="services.gpu.cluster"):
        with pytest.raises(ClusterUnavailable) as caught:
            cluster._translated(call, "listing nodes")

    assert caught.value.message == "listing nodes: the cluster did not answer (connection refused)"
    assert "/api/v1/nodes" in caplog.text
