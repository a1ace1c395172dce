"""Tenant isolation: one NetworkPolicy per project namespace.

The policy selects every pod of the namespace (podSelector {}) and admits ingress only from
namespaces labelled with the same project (scs.io/project=<id>), which includes the namespace
itself: pods of one project reach each other, pods of other projects are denied. Egress is not
restricted. Installing it is idempotent; the first installation per namespace (by uid) records
`namespace.setup_done` {namespace, step: "network"}.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.exc import IntegrityError

from services.network import cluster
from services.network.exceptions import (
    NamespaceNotInProject,
    NetworkObjectExists,
    NetworkObjectNotFound,
)
from services.network.models import NetworkIsolation, OutboxEvent
from shared.db import Database
from shared.events import SYSTEM_ACTOR, new_event, record_event

logger = logging.getLogger(__name__)

POLICY_NAME = "scs-project-isolation"
PROJECT_LABEL = "scs.io/project"


def policy_manifest(namespace: str, project_id: str) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": POLICY_NAME,
            "namespace": namespace,
            "labels": {"scs.io/managed": "true", PROJECT_LABEL: project_id},
        },
        "spec": {
            "podSelector": {},
            "policyTypes": ["Ingress"],
            "ingress": [
                {"from": [{"namespaceSelector": {"matchLabels": {PROJECT_LABEL: project_id}}}]}
            ],
        },
    }


def ensure_isolation(
    db: Database, namespace: str, project_id: str | None = None, announce: bool = False
) -> dict[str, Any]:
    """Install or correct the policy; answers {namespace, project_id, policy, created}.

    `namespace.setup_done` is recorded on the first installation, and on every call with
    `announce` (a repeated `namespace.created`: the cluster service re-announces a namespace
    whose setup it has not seen finish, so it must get an answer again).
    """
    found = cluster.get_namespace(namespace)
    if found is None:
        raise NetworkObjectNotFound(f"namespace {namespace} not found", {"namespace": namespace})
    labels = found["metadata"].get("labels") or {}
    owner = labels.get(PROJECT_LABEL)
    if owner is None or (project_id is not None and owner != project_id):
        raise NamespaceNotInProject(
            f"namespace {namespace} is not labelled {PROJECT_LABEL}={project_id}",
            {"namespace": namespace, "project_id": project_id, "label": owner},
        )

    wanted = policy_manifest(namespace, owner)
    current = cluster.read_network_policy(namespace, POLICY_NAME)
    if current is None:
        try:
            cluster.create_object(wanted)
        except NetworkObjectExists:
            logger.debug("policy in %s created concurrently", namespace)
    elif current.get("spec") != wanted["spec"]:
        wanted["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        cluster.replace_object(wanted)

    created = _remember(db, found["metadata"]["uid"], namespace, owner)
    if announce and not created:
        with db.transaction() as session:
            _record_setup_done(session, found["metadata"]["uid"], namespace, owner)
    if created:
        logger.info("namespace %s of project %s isolated", namespace, owner)
    return {"namespace": namespace, "project_id": owner, "policy": POLICY_NAME, "created": created}


def _remember(db: Database, uid: str, namespace: str, project_id: str) -> bool:
    try:
        return _insert_isolation(db, uid, namespace, project_id)
    except IntegrityError:  # a concurrent handler recorded it first
        return False


def _insert_isolation(db: Database, uid: str, namespace: str, project_id: str) -> bool:
    with db.transaction() as session:
        if session.get(NetworkIsolation, uid) is not None:
            return False
        session.add(
            NetworkIsolation(namespace_uid=uid, namespace=namespace, project_id=project_id)
        )
        _record_setup_done(session, uid, namespace, project_id)
        return True


def _record_setup_done(session: Any, uid: str, namespace: str, project_id: str) -> None:
    event = new_event(
        "namespace.setup_done",
        actor=SYSTEM_ACTOR,
        project=project_id,
        resource={"kind": "Namespace", "namespace": None, "name": namespace, "uid": uid},
        data={"namespace": namespace, "step": "network"},
    )
    record_event(session, OutboxEvent, event)


def ensure_all(db: Database, selector: str) -> int:
    """Isolate every served namespace; answers how many were isolated for the first time."""
    fresh = 0
    for ns in cluster.list_namespaces(selector):
        labels = ns["metadata"].get("labels") or {}
        if PROJECT_LABEL not in labels:
            continue
        fresh += ensure_isolation(db, ns["metadata"]["name"])["created"]
    return fresh
