"""The terminal relay's rules (services/workload/terminal.py) and the exec status parsing of
cluster.ExecStream.

Faked: the exec session (`ScriptedExec`), the queues (`ScriptedChannel`), the audit store (a
list) and, for ExecStream, the kubernetes client's WSClient (`FakeWs`, channels as strings).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from nameko.exceptions import UnknownService

from services.workload.cluster import ExecStream
from services.workload.exceptions import OwnerUnavailable
from services.workload.terminal import (
    Transcript,
    check_queue_name,
    parse_command,
    relay_session,
    require_audit,
)
from shared.errors import ValidationFailed


class ScriptedExec:
    def __init__(self, output: list[str], exits_after_input: bool = True) -> None:
        self.output, self.written, self.open = list(output), [], True
        self.exits_after_input = exits_after_input

    def read(self, timeout: float) -> str:
        return self.output.pop(0) if self.output else ""

    def write(self, data: str) -> None:
        self.written.append(data)
        if self.exits_after_input:
            self.open = False

    def is_open(self) -> bool:
        return self.open

    def exit_code(self) -> int | None:
        return 0

    def close(self) -> None:
        self.open = False


class ScriptedChannel:
    def __init__(self, inputs: list[list[str]], alive_checks: int = 10_000) -> None:
        self.inputs, self.sent, self.alive_checks = inputs, [], alive_checks

    def receive(self, timeout: float) -> list[str]:
        return self.inputs.pop(0) if self.inputs else []

    def send(self, text: str) -> None:
        self.sent.append(text)

    def alive(self) -> bool:
        self.alive_checks -= 1
        return self.alive_checks >= 0


def _transcript() -> tuple[Transcript, list[tuple[str, int]]]:
    stored: list[tuple[str, int]] = []
    return Transcript(lambda chunk, offset: stored.append((chunk, offset))), stored


def test_both_directions_reach_the_other_side_and_the_transcript_in_order() -> None:
    session = ScriptedExec(["$ "])
    channel = ScriptedChannel([[], ["héllo\n"]])
    transcript, stored = _transcript()

    assert relay_session(session, channel, transcript, max_seconds=5) == "exited"
    assert channel.sent == ["$ "] and session.written == ["héllo\n"]
    # offsets count bytes, so a retried store_transcript call is recognised by the audit
    assert stored == [("$ ", 0), ("héllo\n", 2)]


def test_a_gone_client_ends_the_session() -> None:
    session = ScriptedExec([], exits_after_input=False)
    channel = ScriptedChannel([], alive_checks=0)
    transcript, _ = _transcript()
    assert relay_session(session, channel, transcript, 5, check_every=0.01) == "client_gone"


def test_a_session_ends_at_the_maximum_duration() -> None:
    session = ScriptedExec([], exits_after_input=False)
    transcript, _ = _transcript()
    assert relay_session(session, ScriptedChannel([]), transcript, 0.2) == "max_duration"


def test_a_failing_transcript_stops_the_session() -> None:
    def refuse(chunk: str, offset: int) -> None:
        raise RuntimeError("audit unavailable")

    with pytest.raises(RuntimeError):
        relay_session(ScriptedExec(["$ "]), ScriptedChannel([]), Transcript(refuse), 5)


@pytest.mark.parametrize(
    ("command", "argv"),
    [("sh", ["sh"]), ("sh -c 'ls /tmp'", ["sh", "-c", "ls /tmp"]), ("  top ", ["top"])],
)
def test_commands_are_split_like_a_shell_without_one(command: str, argv: list[str]) -> None:
    assert parse_command(command) == argv


@pytest.mark.parametrize("command", ["", "   ", "sh -c 'open", None, "x " * 33, "a" * 1025])
def test_bad_commands_are_refused_naming_the_field(command: Any) -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse_command(command)
    assert refused.value.details == {"field": "command"}


@pytest.mark.parametrize("queue", ["rpc-workload", "scs.logs." + "a" * 32, "scs.term.x", 1])
def test_only_terminal_queues_are_used(queue: Any) -> None:
    with pytest.raises(ValidationFailed):
        check_queue_name(queue)


class FakeWs:
    """WSClient's surface as ExecStream uses it; the channels are given strings."""

    def __init__(self, channels: dict[int, str], open_: bool = False) -> None:
        self.channels, self.open = channels, open_

    def is_open(self) -> bool:
        return self.open

    def update(self, timeout: float) -> None:
        self.open = False

    def peek_channel(self, channel: int, timeout: float = 0) -> str:
        return self.channels.get(channel, "")

    def read_channel(self, channel: int, timeout: float = 0) -> str:
        return self.channels.pop(channel, "")

    def close(self) -> None:
        self.open = False


class FakeClient:
    def close(self) -> None:
        pass


def _status(**fields: Any) -> dict[int, str]:
    return {3: json.dumps(fields)}


def test_exec_status_success_non_zero_and_failure() -> None:
    done = ExecStream(FakeWs(_status(status="Success")), FakeClient())  # type: ignore[arg-type]
    assert done.early_failure(0.1) is None and done.exit_code() == 0

    code = _status(
        status="Failure", reason="NonZeroExitCode", details={"causes": [{"message": "2"}]}
    )
    failed = ExecStream(FakeWs(code), FakeClient())  # type: ignore[arg-type]
    assert failed.early_failure(0.1) is None and failed.exit_code() == 2

    refused = _status(status="Failure", reason="InternalError", message="no exec found")
    never_ran = ExecStream(FakeWs(refused), FakeClient())  # type: ignore[arg-type]
    assert never_ran.early_failure(0.1) == "no exec found"
    assert never_ran.exit_code() is None


def test_a_running_process_is_no_failure() -> None:
    running = ExecStream(FakeWs({1: "$ "}, open_=True), FakeClient())  # type: ignore[arg-type]
    assert running.early_failure(0.1) is None and running.exit_code() is None


class _AuditAway:
    def health(self) -> None:
        raise UnknownService("audit")


def test_no_terminal_opens_while_the_audit_service_is_away() -> None:
    with pytest.raises(OwnerUnavailable) as refused:
        require_audit(_AuditAway())
    assert refused.value.details == {"owner": "audit"}
