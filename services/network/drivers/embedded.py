"""The embedded SDN driver: the pool and the members live in the network service's database.

No two Services ever hold one address: `lb_pool.address` is the primary key and
`lb_pool.service_key` is UNIQUE. On PostgreSQL a free address is taken with
SELECT ... FOR UPDATE SKIP LOCKED, so concurrent allocations lock different rows; two
concurrent allocations for the same Service collide on the UNIQUE key and the loser's
transaction is retried by the caller, which then finds the address already held. When every
free row is locked by allocations in flight, the driver waits for them before answering that
the pool is empty. On SQLite the database's single writer (shared/db.py) serialises
allocations.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import eventlet
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from services.network.models import LbMember, PoolAddress

logger = logging.getLogger(__name__)

LOCKED_RETRIES = 40
LOCKED_WAIT_SECONDS = 0.025


class EmbeddedSdnDriver:
    def sync_pool(self, session: Session, addresses: list[str]) -> None:
        wanted = {address: position for position, address in enumerate(addresses)}
        rows = {row.address: row for row in session.scalars(select(PoolAddress))}
        for address, row in rows.items():
            if address not in wanted and row.service_key is None:
                session.delete(row)
            elif address in wanted:
                row.position = wanted[address]
        for address, position in wanted.items():
            if address not in rows:
                session.add(PoolAddress(address=address, position=position))
        session.flush()

    def allocate(self, session: Session, service_key: str) -> str | None:
        held = self.address_of(session, service_key)
        if held is not None:
            return held

        row = self._lock_free_row(session)
        if row is None:
            return None
        row.service_key = service_key
        row.allocated_at = datetime.now(UTC)
        session.flush()  # the UNIQUE key on service_key answers here
        return row.address

    def _lock_free_row(self, session: Session) -> PoolAddress | None:
        query = (
            select(PoolAddress)
            .where(PoolAddress.service_key.is_(None))
            .order_by(PoolAddress.position)
            .limit(1)
        )
        if session.get_bind().dialect.name != "postgresql":
            return session.scalar(query)

        # Rows locked by concurrent allocations are skipped. When every free row is locked,
        # wait for those transactions: one that rolls back (a duplicate allocation for one
        # Service) frees its row again, so "empty" is only answered when it is true.
        for _ in range(LOCKED_RETRIES):
            row = session.scalar(query.with_for_update(skip_locked=True))
            if row is not None or not self._any_free(session):
                return row
            eventlet.sleep(LOCKED_WAIT_SECONDS)
        return None

    def _any_free(self, session: Session) -> bool:
        free = select(PoolAddress.address).where(PoolAddress.service_key.is_(None)).limit(1)
        return session.scalar(free) is not None

    def release(self, session: Session, service_key: str) -> str | None:
        query = select(PoolAddress).where(PoolAddress.service_key == service_key)
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        row = session.scalar(query)
        if row is None:
            return None
        row.service_key = None
        row.allocated_at = None
        session.execute(delete(LbMember).where(LbMember.service_key == service_key))
        session.flush()
        return row.address

    def address_of(self, session: Session, service_key: str) -> str | None:
        return session.scalar(
            select(PoolAddress.address).where(PoolAddress.service_key == service_key)
        )

    def pool_state(self, session: Session) -> dict[str, Any]:
        size = session.scalar(select(func.count()).select_from(PoolAddress)) or 0
        held = session.execute(
            select(PoolAddress.address, PoolAddress.service_key).where(
                PoolAddress.service_key.is_not(None)
            )
        ).all()
        return {"size": size, "free": size - len(held), "allocated": dict(held)}

    def set_members(
        self, session: Session, service_key: str, members: dict[str, str | None]
    ) -> tuple[list[tuple[str, str | None]], list[tuple[str, str | None]]]:
        current = self.members(session, service_key)
        added = [(ip, pod) for ip, pod in members.items() if ip not in current]
        removed = [(ip, pod) for ip, pod in current.items() if ip not in members]
        for ip, pod in added:
            session.add(LbMember(service_key=service_key, member=ip, pod=pod))
        if removed:
            session.execute(
                delete(LbMember).where(
                    LbMember.service_key == service_key,
                    LbMember.member.in_([ip for ip, _ in removed]),
                )
            )
        session.flush()
        return added, removed

    def members(self, session: Session, service_key: str) -> dict[str, str | None]:
        rows = session.execute(
            select(LbMember.member, LbMember.pod).where(LbMember.service_key == service_key)
        ).all()
        return dict(rows)
