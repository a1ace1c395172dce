"""Quota for a workload's pods: reservations ("grants") held in the quota service's ledger.

A workload keeps a list of grants, each a committed reservation paying for some pods. Growing
reserves a new grant for the extra pods first and commits it once the cluster accepted the
change (or releases it when it did not); shrinking releases grants after the cluster change
and reserves the remainder if a released grant paid for more pods than were removed. With an
HPA, the grants cover its maxReplicas, so autoscaling can never take usage over a limit.
"""

from __future__ import annotations

import json
import logging
import math
import uuid
from dataclasses import dataclass, field
from typing import Any

from nameko.exceptions import RemoteError

from services.workload.exceptions import QuotaRefused
from services.workload.quota_usage import PodCost, quota_items
from shared.errors import ScsError

logger = logging.getLogger(__name__)


@dataclass
class GrantChange:
    """A pending change of a workload's grants: commit `reserved` or undo with `abort`."""

    project_id: str
    actor: str
    keep: list[dict[str, Any]]
    reserved: list[dict[str, Any]] = field(default_factory=list)
    pending: list[int] = field(default_factory=list)  # pods to re-reserve after releasing
    to_release: list[dict[str, Any]] = field(default_factory=list)
    replacements: list[dict[str, Any]] = field(default_factory=list)
    cost: PodCost | None = None
    storage: dict[str, int] = field(default_factory=dict)
    surge: list[dict[str, Any]] = field(default_factory=list)  # held rollout headroom, kept

    @property
    def grants(self) -> list[dict[str, Any]]:
        """The grants the workload holds once the change is finished."""
        return self.keep + self.reserved + self.replacements + self.surge


def cost_from(data: dict[str, Any]) -> PodCost:
    return PodCost(**data)


def pods_paid(grants: list[dict[str, Any]]) -> int:
    """Pods the grants pay for, rollout headroom (surge grants) not counted."""
    return sum(int(g["pods"]) for g in without_surge(grants))


def surge_grants(grants: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [g for g in grants if g.get("surge")]


def without_surge(grants: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [g for g in grants if not g.get("surge")]


def surge_pods(body: dict[str, Any], replicas: int) -> int:
    """Extra pods a Deployment's rolling update runs at once (maxSurge, default 25% up)."""
    if body.get("kind") != "Deployment" or replicas <= 0:
        return 0
    strategy = (body.get("spec") or {}).get("strategy") or {}
    if strategy.get("type") == "Recreate":
        return 0
    value = (strategy.get("rollingUpdate") or {}).get("maxSurge", "25%")
    if isinstance(value, str) and value.endswith("%"):
        return math.ceil(replicas * int(value[:-1]) / 100)
    return int(value)


def plan_surge(
    quota: Any,
    project_id: str,
    workload_id: str,
    held: list[dict[str, Any]],
    cost: PodCost,
    pods: int,
    actor: str,
    storage: dict[str, int] | None = None,
) -> GrantChange:
    """Headroom for `pods` surge pods while a rollout runs; a held grant that fits is kept.

    Refused with QuotaRefused naming the surge (details.surge, details.field) when it does not
    fit. `finish` commits it and releases headroom it replaces.
    """
    current = surge_grants(held)
    change = GrantChange(project_id, actor, keep=[], cost=cost, storage=storage or {})
    if pods > 0 and current and _covers(current, cost, pods):
        change.surge = current
        return change
    change.to_release = current
    if pods <= 0:
        return change
    try:
        grant = _reserve(quota, change, workload_id, pods)
    except QuotaRefused as exc:
        known = exc.details if isinstance(exc.details, dict) else {}
        details = {**known, "field": "spec.strategy.rollingUpdate.maxSurge", "surge": pods}
        message = f"the rollout needs room for {pods} surge pod(s) (maxSurge): {exc.message}"
        raise QuotaRefused(message, details) from exc
    change.reserved.append({**grant, "surge": True, "cost": cost.to_dict()})
    return change


def plan(
    quota: Any,
    project_id: str,
    workload_id: str,
    grants: list[dict[str, Any]],
    cost: PodCost,
    pods: int,
    actor: str,
    storage: dict[str, int] | None = None,
) -> GrantChange:
    """Reserve what growing to `pods` needs; shrinking is settled by `finish`."""
    change = GrantChange(
        project_id, actor, keep=without_surge(grants), cost=cost, storage=storage or {}
    )
    change.surge = surge_grants(grants)
    extra = pods - pods_paid(grants)
    if extra > 0:
        change.reserved.append(_reserve(quota, change, workload_id, extra))
    elif extra < 0:
        _choose_releases(change, -extra, workload_id)
    return change


def plan_replacement(
    quota: Any,
    project_id: str,
    workload_id: str,
    grants: list[dict[str, Any]],
    cost: PodCost,
    pods: int,
    actor: str,
    storage: dict[str, int] | None = None,
) -> GrantChange:
    """New grants at a new per-pod cost; the old ones are released by `finish`.

    Both are held while the rollout runs, as the cluster runs old and new pods side by side.
    """
    change = GrantChange(project_id, actor, keep=[], cost=cost, storage=storage or {})
    change.to_release = list(grants)
    if pods > 0:
        change.reserved.append(_reserve(quota, change, workload_id, pods))
    return change


def finish(quota: Any, change: GrantChange, workload_id: str) -> list[dict[str, Any]]:
    """After the cluster accepted: commit new grants, release replaced ones."""
    for grant in change.reserved:
        quota.commit(grant["key"], change.actor)
    for grant in change.to_release:
        quota.release(grant["key"], change.actor)
    for pods in change.pending:
        grant = _reserve(quota, change, workload_id, pods)
        quota.commit(grant["key"], change.actor)
        change.replacements.append(grant)
    return change.grants


def abort(quota: Any, change: GrantChange) -> None:
    """The cluster refused: release what was reserved; keep the old grants."""
    for grant in change.reserved:
        try:
            quota.release(grant["key"], change.actor)
        except Exception:  # the reservation expires on its own; nothing else to undo
            logger.exception("could not release reservation %s", grant["key"])


def release_all(quota: Any, grants: list[dict[str, Any]], actor: str) -> None:
    for grant in grants:
        quota.release(grant["key"], actor)


def _covers(grants: list[dict[str, Any]], cost: PodCost, pods: int) -> bool:
    paid = sum(int(g["pods"]) for g in grants)
    return paid >= pods and all(g.get("cost") == cost.to_dict() for g in grants)


def _choose_releases(change: GrantChange, fewer: int, workload_id: str) -> None:
    # Release whole grants, newest first; when a released grant paid for more pods than
    # are removed, `finish` reserves the remainder again right after releasing it.
    while fewer > 0 and change.keep:
        grant = change.keep.pop()
        change.to_release.append(grant)
        fewer -= int(grant["pods"])
    if fewer < 0:
        change.pending.append(-fewer)


def _reserve(quota: Any, change: GrantChange, workload_id: str, pods: int) -> dict[str, Any]:
    assert change.cost is not None
    key = _key(workload_id)
    items = quota_items(change.cost, pods, change.storage)
    try:
        quota.reserve(change.project_id, key, items, change.actor)
    except RemoteError as exc:
        if exc.exc_type == "QuotaExceeded":
            raise QuotaRefused(str(exc.value), {"project_id": change.project_id}) from exc
        raise
    except ScsError as exc:
        if exc.code == "quota_exceeded":
            details = exc.details if isinstance(exc.details, dict) else {}
            raise QuotaRefused(exc.message, json.loads(json.dumps(details))) from exc
        raise
    logger.info("reserved %s pods as %s in project %s", pods, key, change.project_id)
    return {"key": key, "pods": pods}


def _key(workload_id: str) -> str:
    return f"workload:{workload_id}:{uuid.uuid4().hex[:12]}"
