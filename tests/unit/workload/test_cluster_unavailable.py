"""The workload service's cluster module answers an unreachable cluster with a short reason;
the host, port and API path go to the WARNING log only.

Faked: the kubernetes ApiClient (its call_api raises what urllib3 raises on a refused
connection); the module's own request code runs.
"""

import logging
from typing import Any

import pytest
import urllib3

from services.workload.cluster import Cluster
from services.workload.exceptions import ClusterUnavailable

PATH = "/apis/apps/v1/namespaces/vision-dev/deployments"


class RefusingClient:
    def param_serialize(self, *args: Any, **kwargs: Any) -> tuple[Any, ...]:
        return ("GET", f"https://127.0.0.1:26443{PATH}", {}, None, [])

    def call_api(self, *args: Any, **kwargs: Any) -> Any:
        reason = urllib3.exceptions.NewConnectionError(
            None, "Failed to establish a new connection: [Errno 111] Connection refused"
        )
        raise urllib3.exceptions.MaxRetryError(None, PATH, reason)


def test_a_refused_connection_is_answered_without_hosts_ports_or_paths(
    caplog: pytest.LogCaptureFixture,
) -> None:
    cluster = Cluster(RefusingClient())  # type: ignore[arg-type]

    with caplog.at_level(logging.WARNING, logger="services.workload.cluster"):
        with pytest.raises(ClusterUnavailable) as caught:
            cluster.request("GET", PATH)

    assert caught.value.message == "the cluster did not answer (connection refused)"
    assert caught.value.http_status == 503
    for internal in ("127.0.0.1", "26443", "/apis/", "Max retries"):
        assert internal not in caught.value.message + str(caught.value.details)
    assert PATH in caplog.text
