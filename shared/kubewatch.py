"""List-then-watch of one Kubernetes collection as a plain stream of (type, object) pairs.

Used by the cluster-access modules of the services that run controllers (network, storage):
they pass the list function of their typed API and get dictionaries (the JSON form, camelCase
keys), so their logic modules never see a `kubernetes` object. After each full list the stream
yields ("SYNCED", {"keys": [...], "listed_at": <ISO time the list was asked for>}) so a
controller can forget objects that disappeared while it was not watching (and only those it
knew before the list: an object created since is not in it). A watch that expires (410 Gone)
or breaks is listed again; a refused connection is retried with a capped backoff, so a
controller survives the cluster restarting.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from kubernetes import client, watch

logger = logging.getLogger(__name__)

WATCH_SECONDS = 240
MAX_BACKOFF_SECONDS = 10.0

Event = tuple[str, dict[str, Any]]


def object_key(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    namespace = meta.get("namespace")
    return f"{namespace}/{meta.get('name')}" if namespace else str(meta.get("name"))


def list_and_watch(
    api: client.ApiClient,
    list_fn: Callable[..., Any],
    *,
    what: str,
    **kwargs: Any,
) -> Iterator[Event]:
    """Yield ADDED for every listed object, SYNCED, then the watch's events; forever."""
    backoff = 0.5
    while True:
        try:
            yield from _one_round(api, list_fn, **kwargs)
            backoff = 0.5
        except Exception as exc:
            # ApiException, urllib3's errors, a missing kubeconfig: the cluster may be
            # restarting or not built yet; a controller waits for it rather than dying.
            logger.warning("watch of %s failed (%s); retrying in %.1f s", what, exc, backoff)
            time.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)


def _one_round(
    api: client.ApiClient, list_fn: Callable[..., Any], **kwargs: Any
) -> Iterator[Event]:
    listed_at = datetime.now(UTC).isoformat()
    listed = list_fn(**kwargs)
    version = listed.metadata.resource_version
    keys = []
    for item in listed.items:
        obj = api.sanitize_for_serialization(item)
        keys.append(object_key(obj))
        yield "ADDED", obj
    yield "SYNCED", {"keys": keys, "listed_at": listed_at}

    stream = watch.Watch().stream(
        list_fn,
        resource_version=version,
        timeout_seconds=WATCH_SECONDS,
        allow_watch_bookmarks=True,
        **kwargs,
    )
    for event in stream:
        kind = event["type"]
        if kind == "ERROR":
            logger.info("watch answered an error (%s); listing again", event["raw_object"])
            return
        if kind == "BOOKMARK":
            continue
        yield kind, api.sanitize_for_serialization(event["object"])
