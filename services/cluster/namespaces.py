"""Project namespaces: labels, the setup handshake and readiness, deletion rules.

Creating a namespace is event-driven. The cluster service creates it with the project's
labels and records `namespace.created`; each setup step (quota mirrors the limits into a
ResourceQuota, network installs the isolation NetworkPolicy, workload labels it for the
admission policy) answers `namespace.setup_done {namespace, step}`. The namespace is `ready`
once every required step answered; the required set comes from SCS_NAMESPACE_SETUP_STEPS
(nameko config NAMESPACE_SETUP_STEPS), default `quota,network`. Readiness is reported once, as
`namespace.ready`. Functions here take a Session; the caller owns the transaction.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.cluster.exceptions import NamespaceNotInProject, invalid
from services.cluster.models import (
    DELETED,
    PENDING,
    READY,
    ManagedNamespace,
    NamespaceStep,
    OutboxEvent,
)
from shared.events import new_event, record_event

PROJECT_LABEL = "scs.io/project"
MANAGED_LABEL = "scs.io/managed"
TENANT_LABEL = "scs.io/tenant"
KNOWN_STEPS = ("quota", "network", "workload")
DEFAULT_STEPS = ("quota", "network")
RESERVED_NAMES = ("default", "kube-system", "kube-public", "kube-node-lease")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def required_steps(config_value: str | None = None) -> tuple[str, ...]:
    """The setup steps a namespace waits for (config, else environment, else the default)."""
    raw = config_value or os.environ.get("SCS_NAMESPACE_SETUP_STEPS")
    if not raw:
        return DEFAULT_STEPS
    steps = tuple(part.strip() for part in raw.split(",") if part.strip())
    unknown = sorted(set(steps) - set(KNOWN_STEPS))
    if unknown:
        raise ValueError(f"unknown namespace setup steps {unknown}; known: {KNOWN_STEPS}")
    return steps


def check_name(name: str) -> None:
    if len(name) > 63 or not _DNS_LABEL.match(name):
        raise invalid("name", "must be a DNS-1123 label (a-z, 0-9, '-', at most 63)")
    if name in RESERVED_NAMES or name.startswith("kube-"):
        raise invalid("name", "is reserved for the system")


def project_labels(project_id: str) -> dict[str, str]:
    return {PROJECT_LABEL: project_id, MANAGED_LABEL: "true", TENANT_LABEL: "true"}


def owner_of(namespace: dict[str, Any]) -> str | None:
    labels = (namespace.get("metadata") or {}).get("labels") or {}
    if labels.get(MANAGED_LABEL) != "true":
        return None
    return labels.get(PROJECT_LABEL)


def ensure_in_project(namespace: dict[str, Any], project_id: str) -> None:
    if owner_of(namespace) != project_id:
        name = (namespace.get("metadata") or {}).get("name")
        raise NamespaceNotInProject(
            f"namespace {name} is not a namespace of this project",
            {"namespace": name, "project_id": project_id},
        )


def _event(
    session: Session, event_type: str, actor: str, row: ManagedNamespace, **data: Any
) -> None:
    resource = {"kind": "Namespace", "name": row.name, "uid": row.uid}
    envelope = new_event(
        event_type,
        actor=actor,
        project=row.project_id,
        resource=resource,
        data={"name": row.name, **data},
    )
    record_event(session, OutboxEvent, envelope)


def record_created(
    session: Session, namespace: dict[str, Any], project_id: str, actor: str
) -> ManagedNamespace:
    """Record a namespace the cluster accepted, with `namespace.created` (idempotent)."""
    meta = namespace["metadata"]
    row = session.get(ManagedNamespace, meta["name"])
    if row is not None and row.status != DELETED:
        return row
    if row is None:
        row = ManagedNamespace(name=meta["name"], project_id=project_id, created_by=actor)
        session.add(row)
    row.uid, row.status, row.project_id = meta.get("uid"), PENDING, project_id
    row.created_at, row.ready_at, row.deleted_at = datetime.now(UTC), None, None
    row.announcements = 0
    session.query(NamespaceStep).filter_by(namespace=row.name).delete()
    session.flush()
    announce(session, row, actor)
    return row


def announce(session: Session, row: ManagedNamespace, actor: str) -> None:
    """Record `namespace.created` (again): setup services are idempotent on it."""
    row.announced_at = datetime.now(UTC)
    row.announcements = (row.announcements or 0) + 1
    _event(session, "namespace.created", actor, row, labels=project_labels(row.project_id))


def reannounce_stale(
    session: Session, after_seconds: float, max_announcements: int, now: datetime | None = None
) -> list[str]:
    """Announce again the namespaces still pending `after_seconds` after their last
    announcement (a setup service was down or failed), at most `max_announcements` times."""
    cutoff = (now or datetime.now(UTC)) - timedelta(seconds=after_seconds)
    query = (
        select(ManagedNamespace)
        .where(ManagedNamespace.status == PENDING)
        .where(ManagedNamespace.announced_at < cutoff)
        .where(ManagedNamespace.announcements < max_announcements)
        .order_by(ManagedNamespace.announced_at)
        .limit(100)
        .with_for_update(skip_locked=True)
    )
    rows = list(session.scalars(query))
    for row in rows:
        announce(session, row, "system")
    return [row.name for row in rows]


def record_step(
    session: Session, name: str, step: str, event_id: str | None, required: tuple[str, ...]
) -> ManagedNamespace | None:
    """Note that a setup step answered; mark the namespace ready when all required did.

    The namespace row is locked first: two steps answering at once would otherwise each miss
    the other's uncommitted step, and neither would mark the namespace ready.
    """
    row = session.get(ManagedNamespace, name, with_for_update=True)
    if row is None or row.status == DELETED:
        return None
    if session.get(NamespaceStep, (name, step)) is None:
        session.add(NamespaceStep(namespace=name, step=step, event_id=event_id))
        session.flush()
    done = set(steps_done(session, name))
    if row.status == PENDING and set(required) <= done:
        row.status, row.ready_at = READY, datetime.now(UTC)
        _event(session, "namespace.ready", "system", row, steps=sorted(done))
    return row


def steps_done(session: Session, name: str) -> list[str]:
    query = select(NamespaceStep.step).where(NamespaceStep.namespace == name)
    return sorted(session.scalars(query))


def record_deleted(
    session: Session, name: str, project_id: str, actor: str, forced: bool, held: dict[str, int]
) -> None:
    row = session.get(ManagedNamespace, name)
    if row is None:
        row = ManagedNamespace(name=name, project_id=project_id, created_by=actor)
        session.add(row)
    if row.status == DELETED:
        return
    row.status, row.deleted_at = DELETED, datetime.now(UTC)
    session.flush()
    _event(session, "namespace.deleted", actor, row, forced=forced, workloads=held)


def describe(
    namespace: dict[str, Any],
    row: ManagedNamespace | None,
    done: list[str],
    required: tuple[str, ...],
) -> dict[str, Any]:
    meta = namespace.get("metadata") or {}
    status = row.status if row is not None else "unmanaged"
    if (namespace.get("status") or {}).get("phase") == "Terminating":
        status = "terminating"
    return {
        "name": meta.get("name"),
        "uid": meta.get("uid"),
        "project_id": owner_of(namespace),
        "labels": meta.get("labels") or {},
        "status": status,
        "ready": status == READY,
        "setup": {"required": list(required), "done": done},
        "created_at": meta.get("creationTimestamp"),
    }


def rows_by_name(session: Session, names: list[str]) -> dict[str, ManagedNamespace]:
    if not names:
        return {}
    query = select(ManagedNamespace).where(ManagedNamespace.name.in_(names))
    return {row.name: row for row in session.scalars(query)}
