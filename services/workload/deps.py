"""What the workload logic needs from its service: database, cluster, quota and owners."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.workload.cluster import Cluster
from shared.db import Database


@dataclass
class Deps:
    db: Database
    cluster: Cluster
    quota: Any  # RpcProxy("quota")
    owners: dict[str, Any] = field(default_factory=dict)  # service name -> RpcProxy
