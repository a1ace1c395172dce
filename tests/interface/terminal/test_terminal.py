"""GET /api/v1/projects/<id>/pods/<name>/exec: the WebSocket terminal through the gateway."""

from __future__ import annotations

import base64
import json
import time
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
import websocket

from tests.interface.gateway.conftest import Client


def _url(client: Client, tenant: dict, pod: str = "web-0", **query: str) -> str:
    params = urlencode({"namespace": "vision-dev", "command": "sh", **query})
    base = client.base.replace("http://", "ws://")
    return f"{base}/api/v1/projects/{tenant['project']}/pods/{pod}/exec?{params}"


def _connect(client: Client, tenant: dict, token: str, **query: str) -> websocket.WebSocket:
    return websocket.create_connection(
        _url(client, tenant, **query), header=[f"Authorization: Bearer {token}"], timeout=10
    )


def _read_until(ws: websocket.WebSocket, expected: str) -> str:
    seen = ""
    deadline = time.monotonic() + 10
    while expected not in seen:
        assert time.monotonic() < deadline, f"no {expected!r} in {seen!r}"
        seen += ws.recv()
    return seen


def test_a_session_relays_both_ways_ends_with_the_exit_code_and_is_audited(
    client: Client, tenant: dict[str, Any]
) -> None:
    ws = _connect(client, tenant, tenant["token"])
    hello = json.loads(ws.recv())
    assert hello["command"] == ["sh"] and hello["session_id"]
    assert _read_until(ws, "$ ") == "$ "

    ws.send("ls /\n")
    assert "LS /" in _read_until(ws, "LS /")
    ws.send("exit\n")
    opcode, frame = ws.recv_data(control_frame=True)
    assert opcode == websocket.ABNF.OPCODE_CLOSE
    assert int.from_bytes(frame[:2], "big") == 1000 and frame[2:] == b"exited 0"
    ws.close()

    transcript = client.call(
        "GET",
        f"/api/v1/projects/{tenant['project']}/audit/transcripts/{hello['session_id']}",
        token=tenant["admin"],
    )
    assert transcript.status == 200, transcript.body
    assert transcript.body["content"] == "$ ls /\nLS /\nexit\n"


def _session_queues(vhost: str) -> list[str]:
    reply = requests.get(
        f"http://127.0.0.1:15672/api/queues/{vhost}", auth=("guest", "guest"), timeout=10
    )
    return [q["name"] for q in reply.json() if q["name"].startswith("scs.term.")]


def test_a_client_closing_first_ends_the_session(
    client: Client, tenant: dict, suite_config: dict
) -> None:
    vhost = suite_config["AMQP_URI"].rsplit("/", 1)[1]
    ws = _connect(client, tenant, tenant["token"])
    hello = json.loads(ws.recv())
    _read_until(ws, "$ ")
    assert len(_session_queues(vhost)) == 2  # output (gateway) and input (workload)
    ws.close()

    # the gateway drops its queue at once; the relay notices within its 2 s check and closes
    deadline = time.monotonic() + 10
    while _session_queues(vhost):
        assert time.monotonic() < deadline, _session_queues(vhost)
        time.sleep(0.2)
    path = f"/api/v1/projects/{tenant['project']}/audit/transcripts/{hello['session_id']}"
    reply = client.call("GET", path, token=tenant["admin"])
    assert reply.status == 200 and reply.body["content"] == "$ "


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ({"command": "sh -c 'unbalanced"}, 400, "validation_failed"),
        ({"pod": "nope"}, 404, None),
    ],
)
def test_refusals_come_as_json_before_the_upgrade(
    client: Client, tenant: dict, query: dict, status: int, code: str | None
) -> None:
    pod = query.pop("pod", "web-0")
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(
            _url(client, tenant, pod=pod, **query),
            header=[f"Authorization: Bearer {tenant['token']}"],
            timeout=10,
        )
    assert refused.value.status_code == status
    body = json.loads(refused.value.resp_body)
    if code:
        assert body["code"] == code and body["details"]["field"] == "command"


def test_only_members_with_the_terminal_right_get_a_session(client: Client, tenant: dict) -> None:
    for headers, status in (([], 401), ([f"Authorization: Bearer {tenant['outsider']}"], 403)):
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            websocket.create_connection(_url(client, tenant), header=headers, timeout=10)
        assert refused.value.status_code == status


def test_a_plain_http_request_is_refused(client: Client, tenant: dict) -> None:
    reply = requests.get(
        _url(client, tenant).replace("ws://", "http://"),
        headers={"Authorization": f"Bearer {tenant['token']}"},
        timeout=10,
    )
    assert reply.status_code == 400 and reply.json()["details"]["header"] == "Upgrade"


def _token_protocol(token: str) -> str:
    encoded = base64.urlsafe_b64encode(token.encode()).decode().rstrip("=")
    return f"base64url.bearer.authorization.scs.io.{encoded}"


def test_a_browser_passes_the_token_as_a_subprotocol(client: Client, tenant: dict) -> None:
    # Browsers cannot set Authorization on a WebSocket; they offer the token as a subprotocol
    # next to the terminal's own, and the answer names only the terminal's.
    ws = websocket.create_connection(
        _url(client, tenant),
        subprotocols=["terminal.scs.io", _token_protocol(tenant["token"])],
        timeout=10,
    )
    try:
        assert ws.getsubprotocol() == "terminal.scs.io"
        assert json.loads(ws.recv())["command"] == ["sh"]
        assert _read_until(ws, "$ ") == "$ "
    finally:
        ws.close()

    for protocols, status in (
        (["terminal.scs.io", _token_protocol("not-a-token")], 401),
        (["terminal.scs.io", "base64url.bearer.authorization.scs.io.%%%"], 401),
        (["terminal.scs.io", _token_protocol(tenant["outsider"])], 403),
    ):
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            websocket.create_connection(_url(client, tenant), subprotocols=protocols, timeout=10)
        assert refused.value.status_code == status, protocols
