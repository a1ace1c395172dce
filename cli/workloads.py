"""`scs scale`, `rollback`, `start`, `stop`, `logs`: the workload API's verbs (apply: apply.py)."""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from collections.abc import Iterator
from typing import Any

from cli import names, rollout
from cli.client import api_path
from cli.context import Context
from cli.errors import EXIT_USAGE, CliError
from cli.render import show, structured
from cli.resources import COLUMNS

logger = logging.getLogger(__name__)

MAX_STREAM_SECONDS = 24 * 3600  # the gateway's largest max_seconds


def _change(ctx: Context, method: str, verb: str, body: Any = None) -> int:
    name = names.subdomain(str(ctx.args.name), "workload", "name")
    project, namespace = ctx.project(), str(ctx.namespace())
    path = api_path("projects", project, "workloads", name, verb)
    record = ctx.gateway.call(method, path, body, params={"namespace": namespace})
    logger.info("%s %s/%s", verb, namespace, name)
    if ctx.output != "table":
        ctx.print(structured(record, ctx.output))
    else:
        ctx.print(show(record, "table", [record], COLUMNS["workload_status"][:3]))
    if getattr(ctx.args, "wait", False):
        return rollout.wait(ctx, project, [(namespace, name)], ctx.args.timeout)
    return 0


def scale(ctx: Context) -> int:
    if ctx.args.replicas < 0:
        raise CliError(EXIT_USAGE, "usage", "--replicas must be 0 or more", "replicas")
    return _change(ctx, "PUT", "scale", {"replicas": ctx.args.replicas})


def rollback(ctx: Context) -> int:
    return _change(ctx, "POST", "rollback", {"revision": ctx.args.revision})


def start(ctx: Context) -> int:
    return _change(ctx, "POST", "start")


def stop(ctx: Context) -> int:
    return _change(ctx, "POST", "stop")


def _log_lines(ctx: Context, project: str, namespace: str) -> list[str]:
    params = {"namespace": namespace, "container": ctx.args.container, "tail_lines": ctx.args.tail}
    path = api_path("projects", project, "pods", ctx.args.pod, "logs")
    return [str(line) for line in ctx.gateway.get(path, **params)["lines"]]


def logs(ctx: Context) -> int:
    """The log's tail, or with -f the gateway's stream until the pod or the stream ends, or
    --max-duration seconds have passed."""
    max_duration = getattr(ctx.args, "max_duration", None)
    if max_duration is not None and not ctx.args.follow:
        raise CliError(EXIT_USAGE, "usage", "--max-duration applies to -f only", "max_duration")
    names.subdomain(str(ctx.args.pod), "pod", "pod")
    project, namespace = ctx.project(), str(ctx.namespace())
    if not ctx.args.follow:
        for line in _log_lines(ctx, project, namespace):
            ctx.print(line)
        return 0
    params = {"namespace": namespace, "container": ctx.args.container, "follow": "true"}
    if ctx.args.tail:
        params["tail_lines"] = str(ctx.args.tail)
    if max_duration is not None:
        # The gateway ends its stream then too (whole seconds, at most its own limit); the
        # client's deadline below holds even when the stream is silent.
        params["max_seconds"] = str(min(math.ceil(max_duration), MAX_STREAM_SECONDS))
    chunks = ctx.gateway.stream(
        api_path("projects", project, "pods", ctx.args.pod, "logs"), **params
    )
    if max_duration is not None:
        chunks = until_deadline(chunks, max_duration)
    for chunk in chunks:
        ctx.out.write(chunk)
        ctx.out.flush()
    return 0


_END = object()


def until_deadline(chunks: Iterator[str], seconds: float) -> Iterator[str]:
    """The chunks that arrive within `seconds`, then the end, even if the stream is silent.

    A daemon thread reads the stream (a read cannot be interrupted otherwise); what it has not
    delivered by the deadline is dropped, and the thread dies with the process. An error of
    the stream (a refusal before it starts, the gateway gone) is raised here.
    """
    handoff: queue.Queue[Any] = queue.Queue()

    def read() -> None:
        try:
            for chunk in chunks:
                handoff.put(chunk)
        except Exception as exc:  # raised again in the caller's thread
            handoff.put(exc)
        handoff.put(_END)

    threading.Thread(target=read, name="scs-logs", daemon=True).start()
    deadline = time.monotonic() + seconds
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            logger.info("logs: --max-duration of %ss reached", seconds)
            return
        try:
            item = handoff.get(timeout=remaining)
        except queue.Empty:
            continue
        if item is _END:
            return
        if isinstance(item, Exception):
            raise item
        yield item
