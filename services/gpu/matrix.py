"""The GPU compatibility matrix of the platform, as data, and the functions that read it.

The platform's NVIDIA driver is 450.80.02. It supports the models in SUPPORTED_MODELS and CUDA
up to MAX_CUDA; GPUs on Arm nodes are never used. Node product labels (GPU Feature Discovery's
`nvidia.com/gpu.product`, e.g. "Tesla-T4", "Tesla-V100-SXM2-16GB", "NVIDIA-A100-SXM4-40GB")
and model names in requests ("T4", "Tesla V100", "quadro rtx 8000") map to one model id here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

DRIVER_VERSION: Final = "450.80.02"
MAX_CUDA: Final = (11, 2)
GPU_ARCH: Final = "amd64"

PRODUCT_LABEL: Final = "nvidia.com/gpu.product"
ARCH_LABEL: Final = "kubernetes.io/arch"
HOSTNAME_LABEL: Final = "kubernetes.io/hostname"
GPU_RESOURCE: Final = "nvidia.com/gpu"
CUDA_ANNOTATION: Final = "gpu.scs.io/cuda-version"

ANY: Final = "any"

# model id -> display name, for the driver 450.80.02 support list.
SUPPORTED_MODELS: Final = {
    "V100": "Tesla V100",
    "P100": "Tesla P100",
    "P40": "Tesla P40",
    "P6": "Tesla P6",
    "P4": "Tesla P4",
    "M60": "Tesla M60",
    "M10": "Tesla M10",
    "M6": "Tesla M6",
    "T4": "Tesla T4",
    "RTX-8000": "Quadro RTX 8000",
    "RTX-6000": "Quadro RTX 6000",
}

# Vendor and line prefixes that labels and people put before the model.
_PREFIXES = ("NVIDIA-", "TESLA-", "QUADRO-", "GEFORCE-")
_LINES = ("RTX", "GRID")
_CUDA = re.compile(r"^(\d{1,2})(?:\.(\d{1,2}))?(?:\.\d{1,3})?$")
_CUDA_CONSTRAINT = re.compile(r"cuda\s*>=\s*([0-9.]+)", re.IGNORECASE)


@dataclass(frozen=True)
class ModelInfo:
    """What the matrix says about one product label or requested model name."""

    model: str  # the model id ("T4"), or the label's own first token when unknown ("A100")
    supported: bool


def _normalise(name: str) -> str:
    text = re.sub(r"[\s_]+", "-", name.strip().upper())
    changed = True
    while changed:
        changed = False
        for prefix in _PREFIXES:
            if text.startswith(prefix):
                text, changed = text[len(prefix) :], True
    return text


def model_of(name: str) -> ModelInfo:
    """The model a product label or a requested name denotes.

    "Tesla-V100-SXM2-16GB" -> V100 (supported); "NVIDIA-T4G" -> T4G (not T4: the Arm part).
    """
    text = _normalise(name)
    for model in SUPPORTED_MODELS:
        if text == model or text.startswith(model + "-"):
            return ModelInfo(model, True)
        # "RTX8000" without the dash is the same card.
        compact = model.replace("-", "")
        if text == compact or text.startswith(compact + "-"):
            return ModelInfo(model, True)
    tokens = text.split("-")
    # A line name alone says too little: "RTX-A6000" keeps its second token.
    unknown = "-".join(tokens[:2]) if tokens[0] in _LINES and len(tokens) > 1 else tokens[0]
    return ModelInfo(unknown or text, False)


def is_supported_arch(arch: str | None) -> bool:
    return arch == GPU_ARCH


def parse_cuda(text: str) -> tuple[int, int]:
    """ "11", "11.2", "11.2.2" or a constraint such as "cuda>=12.1" -> (major, minor).

    A constraint list (NVIDIA_REQUIRE_CUDA: "cuda>=11.0 brand=tesla,driver>=418") yields the
    highest `cuda>=` bound. ValueError when nothing readable is there.
    """
    bounds = _CUDA_CONSTRAINT.findall(text)
    candidates = bounds or [text.strip()]
    versions = []
    for candidate in candidates:
        match = _CUDA.match(candidate.strip())
        if match is None:
            raise ValueError(f"not a CUDA version: {text!r}")
        versions.append((int(match.group(1)), int(match.group(2) or 0)))
    return max(versions)


def cuda_text(version: tuple[int, int]) -> str:
    return f"{version[0]}.{version[1]}"


def cuda_supported(version: tuple[int, int]) -> bool:
    return version <= MAX_CUDA


def describe() -> dict[str, object]:
    """The matrix as the inventory RPC shows it."""
    return {
        "driver_version": DRIVER_VERSION,
        "max_cuda": cuda_text(MAX_CUDA),
        "architectures": [GPU_ARCH],
        "models": [{"model": m, "name": n} for m, n in SUPPORTED_MODELS.items()],
    }
