"""`--wait`: follow workloads until their rollout is complete, with a progress display.

On a terminal one line per workload is rewritten in place; otherwise a line is printed each
time a workload's state changes, so a log stays readable.
"""

from __future__ import annotations

import time
from typing import Any

from cli.client import api_path
from cli.context import Context
from cli.errors import EXIT_REFUSED, EXIT_UNAVAILABLE, CliError

DONE = {"complete", "suspended", "scheduled"}
POLL_S = 1.0
# A rollout the API reports `stuck` (FailedCreate: a missing service account, quota) ends the
# wait once it has stayed so this long: such a state can clear within seconds on its own.
STUCK_GRACE_S = 10.0


def progress_line(record: dict[str, Any]) -> str:
    rollout = record.get("rollout") or {}
    state = rollout.get("state", "unknown")
    counts = ", ".join(f"{k} {v}" for k, v in rollout.items() if k not in ("state", "message"))
    line = f"{record['kind'].lower()}/{record['name']}: {state}"
    if counts:
        line += f" ({counts})"
    if rollout.get("message"):
        line += f": {rollout['message']}"
    return line


def wait(ctx: Context, project: str, targets: list[tuple[str, str]], timeout: float) -> int:
    """Poll each (namespace, name) until complete; exit 1 on failed or stuck for longer than
    STUCK_GRACE_S, 5 on timeout."""
    pending = dict.fromkeys(targets, "")
    stuck_since: dict[tuple[str, str], float] = {}
    deadline = time.monotonic() + timeout
    tty = ctx.err.isatty()
    while pending:
        for target in list(pending):
            namespace, name = target
            record = ctx.gateway.get(
                api_path("projects", project, "workloads", name), namespace=namespace
            )
            line, state = progress_line(record), (record.get("rollout") or {}).get("state")
            if line != pending[target] or state in DONE:
                ctx.err.write(("\r\033[K" if tty else "") + line + ("" if tty else "\n"))
                ctx.err.flush()
            pending[target] = line
            error = _stopped(record, line, target, stuck_since)
            if error is not None:
                if tty:
                    ctx.err.write("\n")
                raise error
            if state in DONE:
                if tty:
                    ctx.err.write("\n")
                del pending[target]
        if pending and time.monotonic() > deadline:
            raise CliError(
                EXIT_UNAVAILABLE, "wait_timeout", f"rollout not complete after {timeout:.0f}s"
            )
        if pending:
            time.sleep(POLL_S)
    return 0


def _stopped(
    record: dict[str, Any],
    line: str,
    target: tuple[str, str],
    stuck_since: dict[tuple[str, str], float],
) -> CliError | None:
    """The error that ends the wait: a failed rollout, or one stuck past STUCK_GRACE_S."""
    rollout = record.get("rollout") or {}
    if rollout.get("state") == "failed":
        return CliError(EXIT_REFUSED, "rollout_failed", line)
    if rollout.get("state") != "stuck":
        stuck_since.pop(target, None)
        return None
    since = stuck_since.setdefault(target, time.monotonic())
    if time.monotonic() - since < STUCK_GRACE_S:
        return None
    reason = rollout.get("reason") or "unknown"
    return CliError(
        EXIT_REFUSED,
        "rollout_stuck",
        f"{record['kind'].lower()}/{record['name']}: {reason}: {rollout.get('message') or '-'}",
    )
