"""Charging claims to the project's quota through the quota service (RPC).

The quota resource of a class is `storage.<class>` in bytes. A claim reserves its size; an
expansion reserves the difference; a reservation is committed once the volume exists at that
size and released when the volume is deleted. The quota service's refusal arrives typed when
its error classes are loaded in this process and as a RemoteError otherwise; both become
StorageQuotaExceeded here (code quota_exceeded, HTTP 422), so callers see one error.
"""

from __future__ import annotations

import logging
from typing import Any

from nameko.exceptions import RemoteError, UnknownService

from services.storage.exceptions import QuotaUnavailable, StorageError
from shared.errors import Unprocessable, registered

logger = logging.getLogger(__name__)


@registered
class StorageQuotaExceeded(StorageError, Unprocessable):
    code = "quota_exceeded"


def _is_quota_exceeded(exc: BaseException) -> bool:
    if getattr(exc, "code", None) == "quota_exceeded":
        return True
    return isinstance(exc, RemoteError) and exc.exc_type == "QuotaExceeded"


ACTIVE = ("reserved", "committed")
MAX_RENEWALS = 3


def reserve(
    quota: Any, project_id: str, key: str, storage_class: str, size_bytes: int, actor: str
) -> str:
    """Reserve under `key` (idempotent); answers the key that holds the reservation.

    A reservation under `key` that expired or was released is not reused: a renewed key
    (`<key>.renewed-<n>`) is reserved instead, so a claim whose provisioning outlived the
    reservation TTL is still charged once.
    """
    current = key
    for attempt in range(1, MAX_RENEWALS + 1):
        answer = _reserve_once(quota, project_id, current, storage_class, size_bytes, actor)
        if not isinstance(answer, dict) or answer.get("status", "reserved") in ACTIVE:
            return current
        logger.info("reservation %s is %s; renewing it", current, answer.get("status"))
        current = f"{key}.renewed-{attempt}"
    raise QuotaUnavailable(f"reservation {key} could not be renewed", {"key": key})


def _reserve_once(
    quota: Any, project_id: str, key: str, storage_class: str, size_bytes: int, actor: str
) -> Any:
    items = {f"storage.{storage_class}": {"requested": size_bytes, "overhead": 0}}
    try:
        return quota.reserve(project_id, key, items, actor)
    except UnknownService as exc:
        raise QuotaUnavailable(
            "the quota service is not running; claims cannot be charged", {"service": "quota"}
        ) from exc
    except Exception as exc:
        if not _is_quota_exceeded(exc):
            raise
        details = getattr(exc, "details", None) or {}
        raise StorageQuotaExceeded(
            f"{storage_class} storage quota exceeded in project {project_id}: "
            f"{size_bytes} more bytes do not fit",
            {
                "resource": f"storage.{storage_class}",
                "requested": size_bytes,
                "quota": details,
                "fields": {"size": ["exceeds the project's quota"]},
            },
        ) from exc


def commit(quota: Any, key: str, actor: str) -> None:
    quota.commit(key, actor)


def commit_or_renew(
    quota: Any, project_id: str, key: str, storage_class: str, size_bytes: int
) -> str:
    """Commit; a reservation that expired meanwhile is renewed first. Answers the key."""
    try:
        commit(quota, key, "system")
        return key
    except Exception as exc:
        if getattr(exc, "code", None) != "reservation_not_active" and not (
            isinstance(exc, RemoteError) and exc.exc_type == "ReservationNotActive"
        ):
            raise
    renewed = reserve(quota, project_id, key, storage_class, size_bytes, "system")
    commit(quota, renewed, "system")
    return renewed


def release(quota: Any, key: str, actor: str) -> None:
    try:
        quota.release(key, actor)
    except Exception as exc:
        if getattr(exc, "code", None) == "reservation_not_found" or (
            isinstance(exc, RemoteError) and exc.exc_type == "ReservationNotFound"
        ):
            logger.info("reservation %s was never made; nothing to release", key)
            return
        raise
