"""A stand-in for the workload service in the pipeline tests and the bench: pod operations,
each one transaction writing the pod's state and its event to an outbox, relayed by the real
`shared.outbox.OutboxRelay`. Only the business logic is simplified; the outbox path is the one
every service uses.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Index, String, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import Database
from shared.events import OutboxMixin, new_event, record_event
from shared.health import HealthRpc
from shared.outbox import OutboxRelay

GIB = 2**30
OVERHEAD_CPU = 250
OVERHEAD_MEMORY = 160 * 2**20


class Base(DeclarativeBase):
    pass


class SimulatedPod(Base):
    __tablename__ = "simulated_pods"

    uid: Mapped[str] = mapped_column(String(64), primary_key=True)
    phase: Mapped[str] = mapped_column(String(16), nullable=False)
    cpu_millicores: Mapped[int] = mapped_column(BigInteger, nullable=False)


class SimulatorOutbox(OutboxMixin, Base):
    __table_args__ = (
        Index(
            "ix_sim_outbox_unpublished",
            "seq",
            postgresql_where=text("published_at IS NULL"),
            sqlite_where=text("published_at IS NULL"),
        ),
    )


class SimulatorService(HealthRpc):
    name = "simulator"

    relay = OutboxRelay("simulator", SimulatorOutbox, interval=0.05)


@dataclass(frozen=True)
class Operation:
    kind: str  # pod.started or pod.stopped
    project: str
    uid: str
    cpu_millicores: int
    memory_bytes: int
    moment: datetime


def plan(pods: int, projects: tuple[str, ...], seed: int = 6) -> list[Operation]:
    """`pods` start/stop pairs (2 × pods operations), each stop after its start."""
    chooser = random.Random(seed)
    base = datetime(2026, 12, 1, tzinfo=UTC)
    operations = []
    for index in range(pods):
        project = projects[index % len(projects)]
        cpu = chooser.choice((100, 250, 500, 1000, 2000))
        memory = chooser.choice((1, 2, 4)) * GIB // 4
        started = base + timedelta(seconds=index, microseconds=chooser.randrange(10**6))
        stopped = started + timedelta(seconds=chooser.randrange(1, 3600), microseconds=7)
        uid = f"pod-{index}"
        operations.append(Operation("pod.started", project, uid, cpu, memory, started))
        operations.append(Operation("pod.stopped", project, uid, cpu, memory, stopped))
    return operations


def apply(database: Database, operation: Operation) -> str:
    """One operation: the pod's state and its event in one transaction; answers the id."""
    field = "started_at" if operation.kind == "pod.started" else "stopped_at"
    envelope = new_event(
        operation.kind,
        actor="system",
        project=operation.project,
        resource={"kind": "Pod", "namespace": "sim", "name": operation.uid, "uid": operation.uid},
        data={
            "workload": {"kind": "Deployment", "name": "sim"},
            "node": "cpu-1",
            "cpu_millicores": operation.cpu_millicores,
            "memory_bytes": operation.memory_bytes,
            "overhead_cpu_millicores": OVERHEAD_CPU,
            "overhead_memory_bytes": OVERHEAD_MEMORY,
            "gpu_count": 0,
            "gpu_model": None,
            field: operation.moment.isoformat(),
        },
    )
    with database.transaction() as session:
        pod = session.get(SimulatedPod, operation.uid)
        if pod is None:
            session.add(
                SimulatedPod(
                    uid=operation.uid, phase="Running", cpu_millicores=operation.cpu_millicores
                )
            )
        else:
            pod.phase = "Succeeded"
        record_event(session, SimulatorOutbox, envelope)
    return str(envelope["id"])


def expected_core_seconds(operations: list[Operation], project: str) -> dict[str, Any]:
    """What billing must answer, computed from the operations themselves (exact integers)."""
    starts = {op.uid: op for op in operations if op.kind == "pod.started"}
    cpu_mc_us = memory_b_us = overhead_us = 0
    for op in operations:
        if op.kind != "pod.stopped" or op.project != project:
            continue
        us = (op.moment - starts[op.uid].moment) // timedelta(microseconds=1)
        cpu_mc_us += op.cpu_millicores * us
        memory_b_us += op.memory_bytes * us
        overhead_us += us
    return {
        "cpu_mc_us": cpu_mc_us,
        "memory_b_us": memory_b_us,
        "overhead_cpu_mc_us": OVERHEAD_CPU * overhead_us,
        "overhead_memory_b_us": OVERHEAD_MEMORY * overhead_us,
    }


def exact_units(value: int, scale: int) -> float:
    """An exact integer sum in billing's reported units (six decimals, as billing rounds)."""
    return float((Decimal(value) / Decimal(scale)).quantize(Decimal("0.000001")))
