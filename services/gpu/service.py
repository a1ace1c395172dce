"""nameko entrypoints of the gpu service; the rules live in matrix.py and placement.py.

Callers: the gateway (inventory for cloud admins, a per-model summary for everyone, dry-run
placements) and the workload service, which calls `place` when a pod template asks for
`nvidia.com/gpu`, applies the node selector and limits it returns, and reserves the returned
quota items itself. The inventory is fed by the node and pod watches (watcher.py); the pod
watch writes gpu.allocated / gpu.released through the outbox.
"""

from __future__ import annotations

import logging
from typing import Any

from services.gpu import allocations, matrix, placement, templates
from services.gpu.models import OutboxEvent
from services.gpu.schemas import PlaceSchema, load_request
from services.gpu.watcher import InventoryWatcher
from shared.context import RequestContext
from shared.db import DatabaseProvider
from shared.errors import ScsError, ValidationFailed
from shared.health import HealthRpc
from shared.outbox import OutboxRelay
from shared.rpc import rpc
from shared.schemas import load

logger = logging.getLogger(__name__)


class GpuService(HealthRpc):
    """GPU inventory, compatibility matrix and placement; `health` comes from HealthRpc."""

    name = "gpu"

    db = DatabaseProvider("gpu")
    context = RequestContext()
    relay = OutboxRelay("gpu", OutboxEvent)
    gpus = InventoryWatcher("gpu")

    @rpc(expected_exceptions=ScsError)
    def inventory(self) -> dict[str, Any]:
        """Every GPU node with its devices, plus the matrix and per-model totals.

        inventory() -> {"synced": true, "matrix": {"driver_version": "450.80.02",
            "max_cuda": "11.2", ...}, "nodes": [{"node": "gpu-t4-0", "product": "Tesla-T4",
            "model": "T4", "arch": "amd64", "supported": true, "unsupported_reason": null,
            "capacity": 4, "allocatable": 4, "allocated": 2, "free": 2,
            "unschedulable": false}], "models": [...summary rows...]}
        """
        return {**self.gpus.view(), "matrix": matrix.describe()}

    @rpc(expected_exceptions=ScsError)
    def inventory_summary(self) -> dict[str, Any]:
        """Per model and architecture, no node names: {"synced", "matrix", "models": [{"model",
        "arch", "supported", "nodes", "allocatable", "allocated", "free",
        "max_free_on_one_node"}]}"""
        return {
            "synced": self.gpus.synced,
            "matrix": matrix.describe(),
            "models": self.gpus.summary(),
        }

    @rpc(expected_exceptions=ScsError)
    def check_request(self, request: dict[str, Any]) -> dict[str, Any]:
        """Dry run of a placement request (see schemas.py); the same answer as `place`.

        Raises ValidationFailed (400), GpuModelUnsupported, GpuArchitectureUnsupported,
        CudaVersionUnsupported, GpusInsufficient, GpuNodeUnknown (422), InventoryNotReady (503).
        """
        return placement.decide(self.gpus, load_request(request))

    @rpc(expected_exceptions=ScsError)
    def place(
        self, project_id: str, request: dict[str, Any], actor: str | None = None
    ) -> dict[str, Any]:
        """Decide where a project's GPU pod goes.

        place("p1", {"count": 2, "model": "T4"}) -> {"count": 2, "model": "T4",
            "product": "Tesla-T4", "node_selector": {"nvidia.com/gpu.product": "Tesla-T4",
            "kubernetes.io/arch": "amd64"}, "limits": {"nvidia.com/gpu": 2},
            "quota": {"gpu": {"requested": 2, "overhead": 0}}, "suggested_node": "gpu-t4-0",
            "candidate_nodes": [...], "cuda": {...}, "driver_version": "450.80.02",
            "project_id": "p1"}
        Raises what check_request raises. Holds nothing: the caller reserves `quota` and
        creates the pod; the scheduler binds it.
        """
        payload = load(
            PlaceSchema(),
            {"project_id": project_id, "request": request, "actor": actor},
            location="payload",
        )
        decision = placement.decide(self.gpus, load_request(payload["request"]))
        logger.info(
            "gpu placement for project %s by %s: %d x %s on %s",
            project_id,
            payload["actor"] or self.context.actor,
            decision["count"],
            decision["product"],
            decision["suggested_node"],
        )
        return {**decision, "project_id": project_id}

    @rpc(expected_exceptions=ScsError)
    def place_template(
        self, project_id: str, pod_template: dict[str, Any], actor: str | None = None
    ) -> dict[str, Any]:
        """`place` for a pod template (YAML path): the request is read from the template
        (templates.py: GPU limits, `gpu.scs.io/model` or the product nodeSelector, CUDA
        annotation and env). Same answer and errors as `place`; a template without
        `nvidia.com/gpu` is refused with ValidationFailed on `count`.
        """
        if not isinstance(pod_template, dict):
            raise ValidationFailed(
                "the pod template must be an object",
                {"location": "payload", "fields": {"pod_template": ["must be an object"]}},
            )
        return self.place(project_id, templates.request_from_template(pod_template), actor)

    @rpc(expected_exceptions=ScsError)
    def list_allocations(self, project_id: str | None = None) -> list[dict[str, Any]]:
        """GPU pods running now (from the ledger), of one project or all."""
        with self.db.transaction() as session:
            return allocations.open_allocations(session, project_id)
