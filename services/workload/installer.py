"""Installs the isolation admission policy at service start, retrying until the cluster answers.

Runs in a managed greenthread so the service starts (and answers RPC) even while the cluster is
still coming up; `ensure` is idempotent, so every start of every replica may run it.
"""

from __future__ import annotations

import logging
from typing import Any

import eventlet
from nameko.extensions import DependencyProvider

from services.workload import admission
from services.workload.cluster import Cluster
from services.workload.exceptions import WorkloadError

logger = logging.getLogger(__name__)

RETRY_SECONDS = 5.0


def ensure_admission_policy(cluster: Cluster) -> None:
    cluster.ensure(admission.policy())
    cluster.ensure(admission.binding())
    logger.info("admission policy %s is installed", admission.POLICY_NAME)


class AdmissionPolicyInstaller(DependencyProvider):
    """Ensures the ValidatingAdmissionPolicy and its binding once per service start."""

    def __init__(self) -> None:
        self.installed = eventlet.event.Event()

    def setup(self) -> None:
        self.cluster = Cluster()

    def start(self) -> None:
        self.container.spawn_managed_thread(self._install)

    def stop(self) -> None:
        self.cluster.close()

    def _install(self) -> None:
        while True:
            try:
                ensure_admission_policy(self.cluster)
                self.installed.send(True)
                return
            except WorkloadError as exc:
                logger.warning("admission policy not installed yet (%s); retrying", exc)
            except Exception:  # never end the service over it; logged, then retried
                logger.exception("installing the admission policy failed; retrying")
            eventlet.sleep(RETRY_SECONDS)

    def get_dependency(self, worker_ctx: Any) -> Any:
        return self.installed
