"""The discovery agent with a faked NVML and a faked node labeller.

Faked: the `pynvml` module (FakeNvml below answers as NVML would for the devices a test
gives it, or raises NVMLError from nvmlInit as when the driver is absent) and the labeller
(records the labels instead of patching a Node). The real pynvml is exercised only by the
"absent here" test, since this machine has no NVIDIA driver.
"""

from types import SimpleNamespace
from typing import Any

import pytest

from services.gpu import discovery


class FakeNvml:
    class NVMLError(Exception):
        pass

    def __init__(self, names: list[str], driver: str = "450.80.02", cuda: int = 11000) -> None:
        self.names = names
        self.driver = driver
        self.cuda = cuda
        self.shut_down = False

    def nvmlInit(self) -> None:
        pass

    def nvmlShutdown(self) -> None:
        self.shut_down = True

    def nvmlDeviceGetCount(self) -> int:
        return len(self.names)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> int:
        return index

    def nvmlDeviceGetName(self, handle: int) -> bytes:
        return self.names[handle].encode()

    def nvmlDeviceGetMemoryInfo(self, handle: int) -> Any:
        return SimpleNamespace(total=15360 * 1024 * 1024)

    def nvmlSystemGetDriverVersion(self) -> str:
        return self.driver

    def nvmlSystemGetCudaDriverVersion(self) -> int:
        return self.cuda


class AbsentNvml(FakeNvml):
    def nvmlInit(self) -> None:
        raise self.NVMLError("NVML Shared Library Not Found")


def test_four_t4_label_the_node() -> None:
    nvml = FakeNvml(["Tesla T4"] * 4, cuda=11020)
    labelled: dict[str, dict[str, str]] = {}
    code = discovery.run(
        "gpu-node-1", False, lambda: nvml, lambda node, labels: labelled.update({node: labels})
    )
    assert code == 0
    labels = labelled["gpu-node-1"]
    assert labels["nvidia.com/gpu.product"] == "Tesla-T4"
    assert labels["nvidia.com/gpu.count"] == "4"
    assert labels["nvidia.com/gpu.memory"] == "15360"
    assert labels["gpu.scs.io/driver-version"] == "450.80.02"
    assert labels["gpu.scs.io/cuda-version"] == "11.2"
    assert (
        labels["nvidia.com/cuda.driver.major"],
        labels["nvidia.com/cuda.driver.minor"],
        labels["nvidia.com/cuda.driver.rev"],
    ) == ("450", "80", "02")
    assert nvml.shut_down


def test_product_labels_are_valid_label_values() -> None:
    assert discovery.product_label("NVIDIA A100-SXM4-40GB") == "NVIDIA-A100-SXM4-40GB"
    assert discovery.product_label("Quadro RTX 8000") == "Quadro-RTX-8000"


def test_absent_nvml_says_so_in_one_line_and_exits_0(capsys: pytest.CaptureFixture) -> None:
    calls: list[str] = []
    code = discovery.run("n1", False, lambda: AbsentNvml([]), lambda n, labels: calls.append(n))
    out = capsys.readouterr().out
    assert code == 0 and not calls
    assert out.count("\n") == 1 and "NVML is not available on n1" in out


def test_the_real_pynvml_reports_absence_here(capsys: pytest.CaptureFixture) -> None:
    # Without an NVIDIA driver (as on CI) the real module must fail cleanly, not crash; with
    # one, the dry run prints the labels it would set.
    assert discovery.main(["--node-name", "here", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "NVML is not available on here" in out or "nvidia.com/gpu.count=" in out


def test_dry_run_prints_labels(capsys: pytest.CaptureFixture) -> None:
    code = discovery.run("n1", True, lambda: FakeNvml(["Tesla V100-SXM2-16GB"] * 2), None)  # type: ignore[arg-type]
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert "nvidia.com/gpu.product=Tesla-V100-SXM2-16GB" in out
    assert "nvidia.com/gpu.count=2" in out
