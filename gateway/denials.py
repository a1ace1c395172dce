"""Denied requests as `access.denied` events for the audit trail.

Denied are the 401s and 403s of the request pipeline, and what a service refused as an
attempt to break isolation (`REFUSED_CODES`): workload changes breaking the isolation rules
(HTTP 422, naming the namespace, the offending field and the rule) and requests naming a
namespace of another project (HTTP 403).

The gateway owns no database, so there is no outbox to write a denial into. Instead the
request pipeline hands the denial to `DenialRecorder`, which keeps it in a bounded in-memory
queue and publishes it from its own greenthread with publisher confirms (the relay's
`EventPublisher`), retrying with backoff while the broker is away. The request is never slowed
down by the bus and a broker outage loses nothing that is still queued.

NB: at-most-once when the gateway process dies with denials still queued, or when more than
MAX_QUEUED denials wait during an outage (the oldest are dropped and counted in a WARNING).
An outbox would need a database the gateway does not have; see services/audit/README.md.
"""

from __future__ import annotations

import collections
import logging
from typing import Any

import eventlet
from eventlet.event import Event
from nameko.extensions import DependencyProvider

from shared.config import Settings
from shared.events import new_event
from shared.outbox import EventPublisher

logger = logging.getLogger(__name__)

MAX_QUEUED = 10_000
ANONYMOUS = "anonymous"
# Refusals of a service that are attempts to break isolation, audited like a 403: a manifest
# breaking the isolation rules (422), or a namespace of another project (or of the platform)
# named in a request the caller's own project authorised (403).
REFUSED_CODES = frozenset(
    {"isolation_violation", "api_version_removed", "namespace_not_in_project"}
)
# Offending fields listed in one record at most (the first is always `field`).
MAX_FIELDS = 20


def denial_event(
    *,
    method: str,
    path: str,
    area: str | None,
    action: str | None,
    source: str | None,
    request_id: str,
    reason: str,
    actor: str | None,
    project_id: str | None,
    namespace: str | None = None,
    refusal: dict[str, Any] | None = None,
    status: int = 422,
) -> dict[str, Any]:
    """The envelope of one denied request (docs/events.md, `access.denied`).

    `refusal` is the details of a service's refusal (REFUSED_CODES): its field, rule and
    document go into the record.
    """
    data = {
        "method": method,
        "path": path,
        "area": area,
        "action": action,
        "source": source,
        "request_id": request_id,
        "reason": reason,
    }
    if refusal is not None:
        data.update(_refusal_data(namespace, refusal, status))
    return new_event(
        "access.denied",
        actor=actor or ANONYMOUS,
        project=project_id,
        resource={"kind": "Endpoint", "namespace": namespace, "name": f"{method} {path}"[:500]},
        data=data,
    )


def _refusal_data(namespace: str | None, details: dict[str, Any], status: int) -> dict[str, Any]:
    data: dict[str, Any] = {"namespace": namespace, "status": status}
    for key in ("field", "rule", "document", "version", "use"):
        if key in details:
            data[key] = details[key]
    violations = details.get("violations")
    if isinstance(violations, list):
        fields = [v.get("field") for v in violations if isinstance(v, dict)]
        data["fields"] = fields[:MAX_FIELDS]
    return data


class DenialRecorder(DependencyProvider):
    """nameko dependency: `self.denials.record(envelope)` from the request pipeline."""

    def __init__(self) -> None:
        self._queue: collections.deque[dict[str, Any]] = collections.deque()
        self._wakeup = Event()
        self._running = False
        self._thread: Any = None
        self.dropped = 0

    def setup(self) -> None:
        amqp_uri = self.container.config.get("AMQP_URI") or Settings.from_env().amqp_uri
        self.publisher = EventPublisher(amqp_uri)

    def start(self) -> None:
        self._running = True
        self._thread = self.container.spawn_managed_thread(self._run)

    def stop(self) -> None:
        # Give queued denials a moment to leave before the container goes.
        for _ in range(20):
            if not self._queue:
                break
            eventlet.sleep(0.05)
        self._running = False
        self._notify()
        if self._thread is not None:
            self._thread.kill()
        self.publisher.close()

    def kill(self) -> None:
        self._running = False
        if self._thread is not None:
            self._thread.kill()
        self.publisher.close()

    def record(self, envelope: dict[str, Any]) -> None:
        if len(self._queue) >= MAX_QUEUED:
            self._queue.popleft()
            self.dropped += 1
            logger.warning("denial queue full; %d denials dropped so far", self.dropped)
        self._queue.append(envelope)
        self._notify()

    def _notify(self) -> None:
        if not self._wakeup.ready():
            self._wakeup.send(True)

    def _run(self) -> None:
        backoff = 0.1
        while self._running:
            if not self._queue:
                self._wakeup.wait()
                self._wakeup = Event()
                continue
            envelope = self._queue[0]
            try:
                self.publisher.publish(envelope)
            except Exception as exc:  # the broker is away: keep it and retry
                logger.warning("publishing denial %s failed: %s", envelope["id"], exc)
                eventlet.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            self._queue.popleft()
            backoff = 0.1

    def get_dependency(self, worker_ctx: Any) -> DenialRecorder:
        return self
