"""The reservation ledger: limits, usage, and the reserve / commit / release cycle.

Plain functions on a SQLAlchemy Session, so they run the same inside a nameko worker, in a
test, or in a benchmark. The caller owns the transaction (`Database.transaction()`); each
function records its event in the same session, so the state change and its event commit
together.

Why limits hold under concurrency: every function that changes a project's usage or limits
first locks the project's row in `quota_projects` (SELECT ... FOR UPDATE on PostgreSQL; on
SQLite `Database.transaction()` already admits one writer at a time), then the reservation's
row when there is one (always in that order, so two transactions never wait on each other in
a circle). The usage a reservation check reads therefore cannot change before it commits.

Usage of a resource = requested + overhead of every committed reservation (kept as running
sums in `quota_usage` by commit and release) plus that of every reserved one whose
`expires_at` is still in the future (summed from the ledger; these are few and short-lived).
A reservation past its expiry stops counting at once; `expire_stale` only records that it
expired. Both parts are read in one statement, so a reader never sees a reservation move
from reserved to committed half-way.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, literal, select, union_all, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from services.quota.exceptions import (
    QuotaExceeded,
    ReservationConflict,
    ReservationNotActive,
    ReservationNotFound,
)
from services.quota.models import (
    COMMITTED,
    EXPIRED,
    RELEASED,
    RESERVED,
    OutboxEvent,
    QuotaLimit,
    QuotaProject,
    QuotaUsage,
    Reservation,
    ReservationItem,
    utcnow,
)
from shared.events import SYSTEM_ACTOR, new_event, record_event

logger = logging.getLogger(__name__)

# Values are below 2**62 (schemas.MAX_QUANTITY); usage of an unlimited resource stays below
# this ceiling too, so sums never overflow a 64-bit column.
CEILING = 2**62 - 1
EXPIRE_BATCH = 500

Items = dict[str, dict[str, int]]


@dataclass
class Totals:
    """Active usage of one resource in one project."""

    requested: int = 0
    overhead: int = 0
    reserved: int = 0  # requested + overhead of reservations not yet committed

    @property
    def used(self) -> int:
        return self.requested + self.overhead


# -- limits -------------------------------------------------------------------------------


def set_limits(
    session: Session,
    project_id: str,
    limits: dict[str, int | None],
    actor: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Set (or, with None, remove) the given resources' limits; others stay as they are."""
    now = now or utcnow()
    _lock_project(session, project_id)

    for resource, value in limits.items():
        row = session.get(QuotaLimit, (project_id, resource))
        if value is None:
            if row is not None:
                session.delete(row)
        elif row is None:
            session.add(
                QuotaLimit(
                    project_id=project_id,
                    resource=resource,
                    limit=value,
                    updated_at=now,
                    updated_by=actor,
                )
            )
        else:
            row.limit, row.updated_at, row.updated_by = value, now, actor
    session.flush()

    totals = _totals(session, project_id, now, limits)
    over_limit = sorted(
        resource
        for resource, value in limits.items()
        if value is not None and totals.get(resource, Totals()).used > value
    )
    _record(
        session,
        "quota.limits_set",
        actor,
        project_id,
        {"kind": "ProjectQuota", "name": project_id},
        {"limits": limits, "over_limit": over_limit},
    )
    logger.info(
        "set limits of project %s: %s (over limit: %s)", project_id, limits, over_limit or "none"
    )
    return {
        "project_id": project_id,
        "limits": _limits(session, project_id),
        "over_limit": over_limit,
    }


def get_limits(session: Session, project_id: str) -> dict[str, Any]:
    return {"project_id": project_id, "limits": _limits(session, project_id)}


def usage(session: Session, project_id: str, now: datetime | None = None) -> dict[str, Any]:
    """Limit and active usage of every resource that has either."""
    now = now or utcnow()
    limits = _limits(session, project_id)
    totals = _totals(session, project_id, now)
    resources = {}
    for resource in sorted(set(limits) | set(totals)):
        total = totals.get(resource, Totals())
        if resource not in limits and total.used == 0 and total.reserved == 0:
            continue  # an unlimited resource whose last reservation was released
        resources[resource] = {
            "limit": limits.get(resource),
            "requested": total.requested,
            "overhead": total.overhead,
            "used": total.used,
            "reserved": total.reserved,
        }
    return {"project_id": project_id, "resources": resources}


# -- reservations -------------------------------------------------------------------------


def reserve(
    session: Session,
    project_id: str,
    key: str,
    items: Items,
    actor: str,
    ttl_seconds: int,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Reserve `items` under the idempotency `key`, or raise QuotaExceeded.

    The same key with the same project and items returns the existing reservation, in
    whatever state it is now; with anything else it raises ReservationConflict.

    NB: two concurrent first calls with one key on PostgreSQL both miss the lookup, and the
    later insert fails with IntegrityError; the caller retries once (the service does), and
    the retry finds the row.
    """
    now = now or utcnow()
    items = {resource: _item(item) for resource, item in items.items()}

    existing = session.get(Reservation, key)
    if existing is not None:
        return _replay(existing, project_id, items, now)

    _lock_project(session, project_id)
    _check_fits(session, project_id, items, now)

    reservation = Reservation(
        key=key,
        project_id=project_id,
        status=RESERVED,
        actor=actor,
        created_at=now,
        expires_at=now + timedelta(seconds=ttl_seconds),
        items=[ReservationItem(resource=r, **item) for r, item in sorted(items.items())],
    )
    session.add(reservation)
    session.flush()  # a concurrent insert of the same key fails here, before anything is logged
    view = describe(reservation, now)
    _record_reservation(session, "quota.reserved", actor, view)
    logger.info(
        "reserved %s in project %s: %s (expires %s)",
        key,
        project_id,
        ", ".join(sorted(items)),
        view["expires_at"].isoformat(),
    )
    return view


def commit(session: Session, key: str, actor: str, now: datetime | None = None) -> dict[str, Any]:
    """Make a reservation permanent; committing a committed one changes nothing."""
    now = now or utcnow()
    reservation = _locked_reservation(session, key)
    if reservation.status == COMMITTED:
        logger.debug("reservation %s is already committed", key)
        return describe(reservation, now)

    status = describe(reservation, now)["status"]
    if status != RESERVED:
        logger.warning("cannot commit reservation %s: it is %s", key, status)
        raise ReservationNotActive(
            f"reservation {key} is {status}, not reserved", {"key": key, "status": status}
        )

    reservation.status, reservation.committed_at, reservation.expires_at = COMMITTED, now, None
    _add_committed(session, reservation, sign=1)
    view = describe(reservation, now)
    _record_reservation(session, "quota.committed", actor, view)
    logger.info("committed reservation %s in project %s", key, reservation.project_id)
    return view


def release(session: Session, key: str, actor: str, now: datetime | None = None) -> dict[str, Any]:
    """Free a reserved or committed reservation; releasing an ended one changes nothing."""
    now = now or utcnow()
    reservation = _locked_reservation(session, key)
    if reservation.status in (RELEASED, EXPIRED):
        logger.debug("reservation %s is already %s", key, reservation.status)
        return describe(reservation, now)

    previous = reservation.status
    if previous == COMMITTED:
        _add_committed(session, reservation, sign=-1)
    reservation.status, reservation.ended_at, reservation.expires_at = RELEASED, now, None
    view = describe(reservation, now)
    _record_reservation(session, "quota.released", actor, view, previous_status=previous)
    logger.info("released %s reservation %s in project %s", previous, key, reservation.project_id)
    return view


def expire_stale(session: Session, now: datetime | None = None) -> int:
    """Mark reserved reservations past their expiry as expired; returns how many."""
    now = now or utcnow()
    query = (
        select(Reservation)
        .where(Reservation.status == RESERVED, Reservation.expires_at <= now)
        .order_by(Reservation.expires_at)
        .limit(EXPIRE_BATCH)
    )
    if session.get_bind().dialect.name == "postgresql":
        # Rows a commit or release holds right now are theirs to decide.
        query = query.with_for_update(skip_locked=True)

    expired = list(session.scalars(query))
    for reservation in expired:
        reservation.status, reservation.ended_at = EXPIRED, now
        _record_reservation(session, "quota.expired", SYSTEM_ACTOR, describe(reservation, now))
    if expired:
        logger.info("expired %d stale reservations", len(expired))
    return len(expired)


def get_reservation(session: Session, key: str, now: datetime | None = None) -> dict[str, Any]:
    reservation = session.get(Reservation, key)
    if reservation is None:
        raise ReservationNotFound(f"no reservation {key}", {"key": key})
    return describe(reservation, now or utcnow())


def describe(reservation: Reservation, now: datetime) -> dict[str, Any]:
    """A reservation as the RPC answer shows it; a reserved one past expiry shows expired."""
    status = reservation.status
    if status == RESERVED and reservation.expires_at is not None and reservation.expires_at <= now:
        status = EXPIRED
    return {
        "key": reservation.key,
        "project_id": reservation.project_id,
        "status": status,
        "items": {
            item.resource: {"requested": item.requested, "overhead": item.overhead}
            for item in reservation.items
        },
        "expires_at": reservation.expires_at,
        "created_at": reservation.created_at,
    }


# -- helpers ------------------------------------------------------------------------------


def _item(item: dict[str, int]) -> dict[str, int]:
    return {"requested": int(item["requested"]), "overhead": int(item.get("overhead", 0))}


def _insert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def _lock_project(session: Session, project_id: str) -> None:
    """Hold the project's row lock until the transaction ends; create the row on first use."""
    lock = (
        select(QuotaProject.project_id)
        .where(QuotaProject.project_id == project_id)
        .with_for_update()
    )
    if session.execute(lock).one_or_none() is not None:
        return
    session.execute(
        _insert(session)(QuotaProject)
        .values(project_id=project_id, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["project_id"])
    )
    session.execute(lock).one()


def _locked_reservation(session: Session, key: str) -> Reservation:
    """The reservation, with its project's lock and then its own."""
    project_id = session.scalar(select(Reservation.project_id).where(Reservation.key == key))
    if project_id is None:
        raise ReservationNotFound(f"no reservation {key}", {"key": key})
    _lock_project(session, project_id)
    return session.scalars(
        select(Reservation)
        .where(Reservation.key == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _add_committed(session: Session, reservation: Reservation, sign: int) -> None:
    """Add (sign 1) or remove (sign -1) a reservation's items to its project's usage rows."""
    for item in reservation.items:
        if sign > 0:
            statement = _insert(session)(QuotaUsage).values(
                project_id=reservation.project_id,
                resource=item.resource,
                requested=item.requested,
                overhead=item.overhead,
            )
            session.execute(
                statement.on_conflict_do_update(
                    index_elements=["project_id", "resource"],
                    set_={
                        "requested": QuotaUsage.requested + statement.excluded.requested,
                        "overhead": QuotaUsage.overhead + statement.excluded.overhead,
                    },
                )
            )
        else:
            session.execute(
                update(QuotaUsage)
                .where(
                    QuotaUsage.project_id == reservation.project_id,
                    QuotaUsage.resource == item.resource,
                )
                .values(
                    requested=QuotaUsage.requested - item.requested,
                    overhead=QuotaUsage.overhead - item.overhead,
                )
            )


def _replay(existing: Reservation, project_id: str, items: Items, now: datetime) -> dict[str, Any]:
    view = describe(existing, now)
    if existing.project_id != project_id or view["items"] != items:
        logger.warning("reservation key %s reused with other items or project", existing.key)
        raise ReservationConflict(
            f"reservation {existing.key} already exists with other items or project",
            {"key": existing.key, "project_id": existing.project_id, "items": view["items"]},
        )
    logger.debug("reservation %s already exists (%s)", existing.key, view["status"])
    return view


def _check_fits(session: Session, project_id: str, items: Items, now: datetime) -> None:
    limits = _limits(session, project_id, items)
    totals = _totals(session, project_id, now, items)
    excess = {}
    for resource, item in items.items():
        limit = limits.get(resource)
        used = totals.get(resource, Totals()).used
        ceiling = CEILING if limit is None else limit
        if used + item["requested"] + item["overhead"] > ceiling:
            excess[resource] = {"limit": limit, "used": used, **item}
    if excess:
        logger.warning("quota exceeded in project %s: %s", project_id, sorted(excess))
        raise QuotaExceeded.for_resources(project_id, excess)


def _limits(
    session: Session, project_id: str, resources: Iterable[str] | None = None
) -> dict[str, int]:
    query = select(QuotaLimit.resource, QuotaLimit.limit).where(
        QuotaLimit.project_id == project_id
    )
    if resources is not None:
        query = query.where(QuotaLimit.resource.in_(list(resources)))
    return {resource: int(limit) for resource, limit in session.execute(query)}


def _totals(
    session: Session, project_id: str, now: datetime, resources: Iterable[str] | None = None
) -> dict[str, Totals]:
    committed = select(
        QuotaUsage.resource,
        literal(COMMITTED).label("status"),
        QuotaUsage.requested,
        QuotaUsage.overhead,
    ).where(QuotaUsage.project_id == project_id)
    reserved = (
        select(
            ReservationItem.resource,
            literal(RESERVED).label("status"),
            func.sum(ReservationItem.requested),
            func.sum(ReservationItem.overhead),
        )
        .join(Reservation, Reservation.key == ReservationItem.reservation_key)
        .where(
            Reservation.project_id == project_id,
            Reservation.status == RESERVED,
            Reservation.expires_at > now,
        )
        .group_by(ReservationItem.resource)
    )
    if resources is not None:
        names = list(resources)
        committed = committed.where(QuotaUsage.resource.in_(names))
        reserved = reserved.where(ReservationItem.resource.in_(names))

    totals: dict[str, Totals] = {}
    # One statement: one snapshot of both parts.
    for resource, status, requested, overhead in session.execute(union_all(committed, reserved)):
        total = totals.setdefault(resource, Totals())
        total.requested += int(requested)
        total.overhead += int(overhead)
        if status == RESERVED:
            total.reserved += int(requested) + int(overhead)
    return totals


def _record(
    session: Session,
    event_type: str,
    actor: str,
    project_id: str,
    resource: dict[str, Any],
    data: dict[str, Any],
) -> None:
    envelope = new_event(event_type, actor=actor, resource=resource, project=project_id, data=data)
    record_event(session, OutboxEvent, envelope)


def _record_reservation(
    session: Session, event_type: str, actor: str, view: dict[str, Any], **extra: Any
) -> None:
    expires_at = view["expires_at"]
    data = {
        "key": view["key"],
        "status": view["status"],
        "items": view["items"],
        "expires_at": expires_at.isoformat() if expires_at else None,
        **extra,
    }
    resource = {"kind": "QuotaReservation", "name": view["key"]}
    _record(session, event_type, actor, view["project_id"], resource, data)
