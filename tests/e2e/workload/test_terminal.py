"""The terminal against the local cluster: the real workload service opens the exec session.

KWOK has no exec configured on this cluster (its ClusterExec would run the command on the
host), so a real session cannot open here: the handshake is refused with 503
`cluster_unavailable` naming the pod, and no queue or session is left behind. The relay itself
is tested with a faked exec backend in tests/interface/terminal.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
import requests
import websocket
from kubernetes import client as k8s

from tests.e2e.workload.conftest import wait_until
from tests.e2e.workload.test_lifecycle import Api, _running
from tests.interface.gateway.conftest import Client


def test_a_node_without_exec_refuses_the_session_cleanly(
    client: Client, tenant: dict, namespace: str, core: k8s.CoreV1Api, suite_config: dict
) -> None:
    Api(client, tenant, namespace, "shell").create(replicas=1)
    wait_until("the pod Running", lambda: len(_running(core, namespace, "shell")) == 1)
    pod = _running(core, namespace, "shell")[0].metadata.name
    query = urlencode({"namespace": namespace, "command": "sh"})
    url = f"{client.base.replace('http://', 'ws://')}/api/v1/projects/{tenant['project']}"

    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(
            f"{url}/pods/{pod}/exec?{query}",
            header=[f"Authorization: Bearer {tenant['token']}"],
            timeout=30,
        )
    assert refused.value.status_code == 503
    body = json.loads(refused.value.resp_body)
    assert body["code"] == "cluster_unavailable" and body["details"]["pod"] == pod

    vhost = suite_config["AMQP_URI"].rsplit("/", 1)[1]
    queues = requests.get(
        f"http://127.0.0.1:15672/api/queues/{vhost}", auth=("guest", "guest"), timeout=10
    ).json()
    assert not [q["name"] for q in queues if q["name"].startswith("scs.term.")]

    with pytest.raises(websocket.WebSocketBadStatusException) as missing:
        websocket.create_connection(
            f"{url}/pods/no-such-pod/exec?{query}",
            header=[f"Authorization: Bearer {tenant['token']}"],
            timeout=30,
        )
    assert missing.value.status_code == 404
