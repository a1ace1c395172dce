"""Request context across RPC: the caller's identity and request id travel in context data.

The gateway puts `request_id` and the authenticated principal (`actor`) into nameko's context
data; `RequestContext` restores the request id for logging in every service worker and gives
the entrypoint the actor for its events.
"""

from __future__ import annotations

from typing import Any

from nameko.extensions import DependencyProvider

from shared.events import SYSTEM_ACTOR
from shared.logging import request_id_var


class Context:
    def __init__(self, data: dict[str, Any]) -> None:
        self.request_id: str = data.get("request_id") or "-"
        self.actor: str = data.get("actor") or SYSTEM_ACTOR


class RequestContext(DependencyProvider):
    def get_dependency(self, worker_ctx: Any) -> Context:
        context = Context(worker_ctx.data)
        request_id_var.set(context.request_id)
        return context
