"""`health` RPC shared by every service, so the gateway's /readyz can ask each one."""

from __future__ import annotations

from typing import Any

from shared.rpc import rpc


class HealthRpc:
    """Mixin for a service class: answers once the service consumes its RPC queue."""

    name: str

    @rpc
    def health(self) -> dict[str, Any]:
        return {"service": self.name, "status": "ok"}
