"""A resumable watch loop shared by the HPA and pod watchers.

The loop lists once (when it has no resourceVersion), then watches from the last
resourceVersion it stored in `watch_state`; a 410 Gone makes it list again, a broken stream or
an apiserver that does not answer makes it wait and resume where it was. Handlers must be
idempotent: after a restart or a re-list they see objects they have seen before.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import eventlet

from services.workload.cluster import Cluster
from services.workload.exceptions import ClusterUnavailable, WatchExpired, WorkloadError
from services.workload.models import WatchState
from shared.db import Database

logger = logging.getLogger(__name__)

RETRY_SECONDS = (0.5, 1, 2, 5)
WATCH_SECONDS = 240

Handler = Callable[[str, dict[str, Any]], None]
Relisted = Callable[[list[dict[str, Any]]], None]


class WatchLoop:
    def __init__(
        self,
        name: str,
        kind: str,
        label_selector: str,
        cluster: Cluster,
        database: Database,
        handle: Handler,
        relisted: Relisted | None = None,
    ) -> None:
        self.name, self.kind, self.selector = name, kind, label_selector
        self.cluster, self.database = cluster, database
        self.handle, self.relisted = handle, relisted
        self.running = True
        self.lists = 0  # how many times the loop listed (tests and logs read it)

    def run(self) -> None:
        failures = 0
        while self.running:
            try:
                version = self.load_version() or self.relist()
                self.follow(version)
                failures = 0
            except WatchExpired:
                logger.info("%s: resourceVersion expired; listing again", self.name)
                self.save_version(None)
            except (ClusterUnavailable, WorkloadError) as exc:
                delay = RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)]
                failures += 1
                logger.warning("%s: %s; resuming in %ss", self.name, exc, delay)
                eventlet.sleep(delay)
            except Exception:  # a handler bug must not end the watch; it is logged
                logger.exception("%s: unexpected error; resuming", self.name)
                eventlet.sleep(RETRY_SECONDS[-1])

    def relist(self) -> str:
        answer = self.cluster.list_objects(self.kind, None, self.selector)
        items = answer.get("items") or []
        for item in items:
            self.handle("ADDED", item)
        if self.relisted is not None:
            self.relisted(items)
        version = str(answer["metadata"]["resourceVersion"])
        self.lists += 1
        self.save_version(version)
        logger.info("%s: listed %s objects at resourceVersion %s", self.name, len(items), version)
        return version

    def follow(self, version: str) -> None:
        for event_type, obj in self.cluster.watch(
            self.kind, version, self.selector, timeout_seconds=WATCH_SECONDS
        ):
            if not self.running:
                return
            if event_type != "BOOKMARK":
                self.handle(event_type, obj)
            self.save_version(str(obj["metadata"]["resourceVersion"]))

    def load_version(self) -> str | None:
        with self.database.transaction() as session:
            state = session.get(WatchState, self.name)
            return state.resource_version if state else None

    def save_version(self, version: str | None) -> None:
        with self.database.transaction() as session:
            state = session.get(WatchState, self.name)
            if state is None:
                state = WatchState(name=self.name)
                session.add(state)
            state.resource_version = version
            state.updated_at = datetime.now(UTC)
