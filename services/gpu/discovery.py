"""`scs-gpu-discovery`: reads this node's GPUs through NVML and labels the node.

Runs on each GPU node of a real cluster (e.g. as a DaemonSet with NODE_NAME from the downward
API). It reads the devices with nvidia-ml-py (`pynvml`) and sets the labels the gpu service
reads, in GPU Feature Discovery's names plus the platform's own:

    nvidia.com/gpu.product=Tesla-T4        nvidia.com/gpu.count=4
    nvidia.com/gpu.memory=15360 (MiB)      nvidia.com/cuda.driver.major/minor/rev=450/80/02
    nvidia.com/cuda.runtime.major/minor=11/0
    gpu.scs.io/driver-version=450.80.02    gpu.scs.io/cuda-version=11.0

Where NVML is absent (no driver, no GPU) it says so in one line and exits 0, so the same
DaemonSet can run on every node.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import socket
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

logger = logging.getLogger(__name__)

LABEL_VALUE = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class Devices:
    names: list[str]
    memory_mib: int
    driver_version: str
    cuda_version: tuple[int, int]


class NvmlAbsent(Exception):
    """NVML (the driver's management library) cannot be used on this machine."""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def read_devices(nvml: ModuleType) -> Devices:
    """Read every device's name and memory, the driver and CUDA versions."""
    try:
        nvml.nvmlInit()
    except nvml.NVMLError as exc:
        raise NvmlAbsent(str(exc)) from exc
    try:
        count = nvml.nvmlDeviceGetCount()
        handles = [nvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
        names = [_text(nvml.nvmlDeviceGetName(h)) for h in handles]
        memory = [nvml.nvmlDeviceGetMemoryInfo(h).total // (1024 * 1024) for h in handles]
        cuda = int(nvml.nvmlSystemGetCudaDriverVersion())
        return Devices(
            names=names,
            memory_mib=min(memory) if memory else 0,
            driver_version=_text(nvml.nvmlSystemGetDriverVersion()),
            cuda_version=(cuda // 1000, (cuda % 1000) // 10),
        )
    finally:
        nvml.nvmlShutdown()


def product_label(name: str) -> str:
    """ "Tesla T4" -> "Tesla-T4", "NVIDIA A100-SXM4-40GB" -> "NVIDIA-A100-SXM4-40GB"."""
    return LABEL_VALUE.sub("-", name.strip()).strip("-.")[:63]


def labels_for(devices: Devices) -> dict[str, str]:
    if not devices.names:
        return {"nvidia.com/gpu.present": "false", "nvidia.com/gpu.count": "0"}
    product, _ = Counter(devices.names).most_common(1)[0]
    driver = devices.driver_version.split(".")
    labels = {
        "nvidia.com/gpu.present": "true",
        "nvidia.com/gpu.product": product_label(product),
        "nvidia.com/gpu.count": str(len(devices.names)),
        "nvidia.com/gpu.memory": str(devices.memory_mib),
        "nvidia.com/cuda.runtime.major": str(devices.cuda_version[0]),
        "nvidia.com/cuda.runtime.minor": str(devices.cuda_version[1]),
        "gpu.scs.io/driver-version": devices.driver_version,
        "gpu.scs.io/cuda-version": f"{devices.cuda_version[0]}.{devices.cuda_version[1]}",
    }
    for key, part in zip(("major", "minor", "rev"), driver, strict=False):
        labels[f"nvidia.com/cuda.driver.{key}"] = part
    return labels


def load_nvml() -> ModuleType:
    try:
        import pynvml
    except ImportError as exc:
        raise NvmlAbsent(f"the pynvml module is missing: {exc}") from exc
    return pynvml


def default_labeller(node: str, labels: dict[str, str]) -> None:
    from services.gpu.cluster import Cluster

    Cluster().label_node(node, labels)


def run(
    node: str,
    dry_run: bool,
    nvml_loader: Callable[[], ModuleType] = load_nvml,
    labeller: Callable[[str, dict[str, str]], None] = default_labeller,
) -> int:
    try:
        devices = read_devices(nvml_loader())
    except NvmlAbsent as exc:
        print(f"scs-gpu-discovery: NVML is not available on {node} ({exc}); nothing to label")
        return 0
    if len(set(devices.names)) > 1:
        logger.warning(
            "node %s has mixed GPU models %s; labelling the most common",
            node,
            sorted(set(devices.names)),
        )
    labels = labels_for(devices)
    if dry_run:
        for key, value in sorted(labels.items()):
            print(f"{key}={value}")
        return 0
    labeller(node, labels)
    logger.info(
        "labelled node %s: %d x %s, driver %s",
        node,
        len(devices.names),
        labels.get("nvidia.com/gpu.product"),
        devices.driver_version,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Label this node with its NVIDIA GPUs.")
    parser.add_argument(
        "--node-name",
        default=os.environ.get("NODE_NAME") or socket.gethostname(),
        help="the Kubernetes node to label (default: $NODE_NAME, else the host name)",
    )
    parser.add_argument("--dry-run", action="store_true", help="print the labels only")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return run(args.node_name, args.dry_run)


if __name__ == "__main__":
    sys.exit(main())
