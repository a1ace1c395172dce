"""A nameko entrypoint that turns a stream of cluster events into workers, one at a time.

The stream (a generator from a service's cluster-access module) runs in its own greenthread,
spawned with `container.spawn_managed_thread`, so the eventlet loop is never blocked by a
watch. Each event runs as an ordinary worker of the service (with its database, RPC proxies
and outbox), and the next event waits for it: events of one collection are handled in order.
A failed worker is logged and the stream goes on; the periodic full list that the stream
performs brings the object back, so a controller retries without its own queue.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import eventlet
from eventlet.event import Event as GreenEvent
from nameko.extensions import Entrypoint

logger = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 30.0

StreamFactory = Callable[[], Iterator[tuple[str, dict[str, Any]]]]


class ClusterWatch(Entrypoint):
    """`@cluster_watch(factory)`: the method receives (event_type, obj) for every event."""

    def __init__(self, stream_factory: StreamFactory, **kwargs: Any) -> None:
        self.stream_factory = stream_factory
        self._thread: Any = None
        super().__init__(**kwargs)

    def start(self) -> None:
        self._thread = self.container.spawn_managed_thread(self._run)

    def stop(self) -> None:
        if self._thread is not None:
            self._thread.kill()
            self._thread = None

    def kill(self) -> None:
        self.stop()

    def _run(self) -> None:
        # The stream retries by itself; this guards against a stream that cannot even start
        # (no kubeconfig yet), which must not take the whole service container down.
        backoff = 1.0
        while True:
            try:
                for event_type, obj in self.stream_factory():
                    backoff = 1.0
                    self._handle(event_type, obj)
            except Exception as exc:
                logger.warning(
                    "%s: the watch stopped (%s); restarting in %.0f s",
                    self.method_name,
                    exc,
                    backoff,
                )
            eventlet.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)

    def _handle(self, event_type: str, obj: dict[str, Any]) -> None:
        done = GreenEvent()

        def handle_result(worker_ctx: Any, result: Any, exc_info: Any) -> tuple[Any, Any]:
            if exc_info is not None:
                logger.warning(
                    "%s failed on a %s event: %s",
                    self.method_name,
                    event_type,
                    exc_info[1],
                )
            done.send(None)
            return result, None

        self.container.spawn_worker(self, (event_type, obj), {}, handle_result=handle_result)
        done.wait()


cluster_watch = ClusterWatch.decorator
