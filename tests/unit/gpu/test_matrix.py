"""The compatibility matrix as data: label mapping and CUDA parsing (pure functions)."""

import pytest

from services.gpu import matrix


@pytest.mark.parametrize(
    ("name", "model", "supported"),
    [
        ("Tesla-T4", "T4", True),
        ("Tesla-V100-SXM2-16GB", "V100", True),
        ("Tesla-V100-PCIE-32GB", "V100", True),
        ("Tesla V100", "V100", True),
        ("t4", "T4", True),
        ("Tesla-P4", "P4", True),
        ("Tesla-P40", "P40", True),
        ("Tesla-M6", "M6", True),
        ("Tesla-M60", "M60", True),
        ("Quadro-RTX-8000", "RTX-8000", True),
        ("Quadro RTX 6000", "RTX-6000", True),
        ("Quadro-RTX6000", "RTX-6000", True),
        ("NVIDIA-A100-SXM4-40GB", "A100", False),
        ("A100", "A100", False),
        ("NVIDIA-T4G", "T4G", False),
        ("NVIDIA-RTX-A6000", "RTX-A6000", False),
        ("NVIDIA-H100-80GB-HBM3", "H100", False),
    ],
)
def test_labels_and_names_map_to_models(name: str, model: str, supported: bool) -> None:
    info = matrix.model_of(name)
    assert (info.model, info.supported) == (model, supported)


@pytest.mark.parametrize(
    ("text", "version"),
    [
        ("11", (11, 0)),
        ("11.2", (11, 2)),
        ("11.2.2", (11, 2)),
        ("cuda>=12.1", (12, 1)),
        ("cuda>=11.0 brand=tesla,driver>=418,driver<419 cuda>=10.2", (11, 0)),
        ("cuda >= 11.1", (11, 1)),
    ],
)
def test_cuda_versions_parse(text: str, version: tuple[int, int]) -> None:
    assert matrix.parse_cuda(text) == version


@pytest.mark.parametrize("text", ["", "latest", "eleven", "cuda>=x"])
def test_unreadable_cuda_versions_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        matrix.parse_cuda(text)


def test_the_driver_supports_cuda_up_to_11_2() -> None:
    assert matrix.cuda_supported((11, 2))
    assert matrix.cuda_supported((10, 1))
    assert not matrix.cuda_supported((11, 3))
    assert not matrix.cuda_supported((12, 0))


def test_only_amd64_nodes_are_used() -> None:
    assert matrix.is_supported_arch("amd64")
    assert not matrix.is_supported_arch("arm64")
    assert not matrix.is_supported_arch(None)
