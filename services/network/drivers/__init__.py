"""The SDN driver interface the load-balancer controller talks to.

A driver owns the address pool and the backends ("members") of each load balancer. Every call
receives the controller's database session, so a driver that keeps its state in the service's
database (the embedded one) changes it in the same transaction as the controller's own rows
and events; a driver for a real SDN would call its API and may ignore the session.
"""

from __future__ import annotations

import os
from typing import Any, Protocol

from sqlalchemy.orm import Session

DEFAULT_POOL = "198.51.100.0/24"  # TEST-NET-2, a documentation range (RFC 5737)


class SdnDriver(Protocol):
    def sync_pool(self, session: Session, addresses: list[str]) -> None:
        """Make the pool hold exactly `addresses` (allocated ones are never dropped)."""

    def allocate(self, session: Session, service_key: str) -> str | None:
        """The Service's address: the one it holds, else a free one; None when none is free."""

    def release(self, session: Session, service_key: str) -> str | None:
        """Free the Service's address; answers it, or None when it held none (idempotent)."""

    def address_of(self, session: Session, service_key: str) -> str | None: ...

    def pool_state(self, session: Session) -> dict[str, Any]:
        """{"size": int, "free": int, "allocated": {address: service_key}}"""

    def set_members(
        self, session: Session, service_key: str, members: dict[str, str | None]
    ) -> tuple[list[tuple[str, str | None]], list[tuple[str, str | None]]]:
        """Make the backends exactly `members` ({ip: pod}); answers (added, removed)."""

    def members(self, session: Session, service_key: str) -> dict[str, str | None]: ...


def configured_pool(config: dict[str, Any] | None = None) -> str:
    """The pool spec: nameko config LB_POOL, else SCS_LB_POOL, else the documentation range."""
    return str((config or {}).get("LB_POOL") or os.environ.get("SCS_LB_POOL") or DEFAULT_POOL)


def get_driver(name: str = "embedded") -> SdnDriver:
    if name != "embedded":
        raise ValueError(f"unknown SDN driver {name!r}; the suite ships 'embedded'")
    from services.network.drivers.embedded import EmbeddedSdnDriver

    return EmbeddedSdnDriver()
