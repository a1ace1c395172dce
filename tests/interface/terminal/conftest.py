"""The terminal through the real gateway, with the exec backend faked.

Real: RabbitMQ (a fresh vhost per module), PostgreSQL (a database per service), the nameko
containers of auth, quota, audit and gateway, the gateway's HTTP server on a loopback port,
the relay of services/workload/terminal.py (TerminalRelay, its queues and the audit calls).
Faked: the cluster's exec session. The local cluster's KWOK has no exec configured (it would
run commands on this machine), so a small `workload` service stands in for the real one here:
it checks the command and queue as the real one does, knows one pod (`web-0`) and opens an
`EchoExec` (prompt "$ ", echoes each input upper-cased, `exit` ends it with code 0).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import eventlet
import pytest
from nameko.containers import ServiceContainer
from nameko.rpc import rpc

from runner.embedded import embedded_suite
from services.workload import terminal
from shared.errors import NotFound, ScsError
from tests.interface.gateway.conftest import ADMIN, Client, amqp_vhost, suite_config_of  # noqa: F401

pytestmark = pytest.mark.interface


class EchoExec:
    def __init__(self) -> None:
        self.pending, self.open, self.code = ["$ "], True, None

    def read(self, timeout: float) -> str:
        if not self.pending:
            eventlet.sleep(timeout)
        text, self.pending = "".join(self.pending), []
        return text

    def write(self, data: str) -> None:
        if data.strip() == "exit":
            self.open, self.code = False, 0
        else:
            self.pending.append(data.upper())

    def is_open(self) -> bool:
        return self.open

    def exit_code(self) -> int | None:
        return self.code

    def close(self) -> None:
        self.open = False


class FakeExecWorkload:
    name = "workload"
    terminals = terminal.TerminalRelay()

    @rpc(expected_exceptions=ScsError)
    def open_terminal(
        self,
        project_id: str,
        namespace: str,
        pod: str,
        container: str | None,
        command: str,
        queue: str,
        actor: str | None = None,
    ) -> dict[str, Any]:
        argv, queue = terminal.parse_command(command), terminal.check_queue_name(queue)
        if pod != "web-0":
            raise NotFound(f"no pod {pod}", {"name": pod})
        session_id = self.terminals.start_session(EchoExec(), queue, project_id, pod)
        return {"session_id": session_id, "command": argv, "max_seconds": 30}


@pytest.fixture(scope="module")
def suite_config(amqp_vhost: str, postgres_admin_url: str) -> Iterator[dict[str, Any]]:  # noqa: F811
    with suite_config_of(
        amqp_vhost, postgres_admin_url, ["auth", "quota", "audit", "gateway"]
    ) as config:
        yield config


@pytest.fixture(scope="module")
def client(suite_config: dict[str, Any]) -> Iterator[Client]:
    from services.auth.bootstrap import bootstrap_admin

    with embedded_suite(["auth", "quota", "audit", "gateway"], suite_config):
        workload = ServiceContainer(FakeExecWorkload, suite_config)
        workload.start()
        try:
            bootstrap_admin(suite_config["AUTH_DATABASE_URL"], *ADMIN)
            yield Client(f"http://{suite_config['WEB_SERVER_ADDRESS']}")
        finally:
            workload.stop()


@pytest.fixture(scope="module")
def tenant(client: Client) -> dict[str, Any]:
    admin = client.login(*ADMIN)
    suffix = uuid.uuid4().hex[:6]

    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        reply = client.call("POST", path, token=admin, json_body=body)
        assert reply.status == 201, (path, reply.body)
        return reply.body  # type: ignore[no-any-return]

    department = post("/api/v1/departments", {"name": f"research-{suffix}"})["id"]
    project = post("/api/v1/projects", {"name": f"vision-{suffix}", "department_id": department})
    user = post("/api/v1/users", {"username": f"dev-{suffix}", "password": "correct-horse-1"})
    post(f"/api/v1/projects/{project['id']}/members", {"user_id": user["id"], "role": "user"})
    other = post("/api/v1/users", {"username": f"out-{suffix}", "password": "correct-horse-1"})
    return {
        "project": project["id"],
        "admin": admin,
        "token": client.login(f"dev-{suffix}", "correct-horse-1"),
        "outsider": client.login(f"out-{suffix}", "correct-horse-1"),
        "outsider_id": other["id"],
    }
