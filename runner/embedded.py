"""Run chosen services in this process, for tests and benchmarks.

`embedded_suite(["auth", "quota", "gateway"], config)` migrates each service's database (the
URL comes from `<SERVICE>_DATABASE_URL` in the config), starts the nameko containers and stops
them on exit. The config is a nameko config dictionary (AMQP_URI, WEB_SERVER_ADDRESS, ...).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import import_module
from typing import Any

from nameko.runners import ServiceRunner

from shared.db import MIGRATED_SERVICES, migrate

# name -> "module:Class"
SERVICES = {
    "auth": "services.auth.service:AuthService",
    "quota": "services.quota.service:QuotaService",
    "gpu": "services.gpu.service:GpuService",
    "cluster": "services.cluster.service:ClusterService",
    "config": "services.config.service:ConfigService",
    "network": "services.network.service:NetworkService",
    "storage": "services.storage.service:StorageService",
    "audit": "services.audit.service:AuditService",
    "billing": "services.billing.service:BillingService",
    "workload": "services.workload.service:WorkloadService",
    "gateway": "gateway.service:GatewayService",
}


def service_class(name: str) -> type:
    module, _, cls = SERVICES[name].partition(":")
    return getattr(import_module(module), cls)  # type: ignore[no-any-return]


def wait_for_port(address: str, timeout: float = 10.0) -> None:
    host, _, port = address.rpartition(":")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, int(port)), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {address} after {timeout} s")


@contextmanager
def embedded_suite(names: list[str], config: dict[str, Any]) -> Iterator[ServiceRunner]:
    for name in names:
        if name in MIGRATED_SERVICES:
            migrate(name, config.get(f"{name.upper()}_DATABASE_URL"))
    runner = ServiceRunner(config)
    for name in names:
        runner.add_service(service_class(name))
    runner.start()
    try:
        if "gateway" in names and "WEB_SERVER_ADDRESS" in config:
            wait_for_port(config["WEB_SERVER_ADDRESS"])
        yield runner
    finally:
        runner.stop()
