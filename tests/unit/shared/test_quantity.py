"""Kubernetes quantities become exact integers; nothing here is faked."""

import pytest

from shared.quantity import bytes_of, cpu_millicores, format_bytes, format_millicores


@pytest.mark.parametrize(
    ("value", "millis"),
    [
        ("500m", 500),
        ("2", 2000),
        (2, 2000),
        ("0.25", 250),
        ("1.5", 1500),
        ("100m", 100),
        ("2500m", 2500),
        ("1e3", 1_000_000),
    ],
)
def test_cpu(value, millis):
    assert cpu_millicores(value) == millis


@pytest.mark.parametrize(
    ("value", "count"),
    [
        ("4Gi", 4 * 2**30),
        ("160Mi", 160 * 2**20),
        ("1G", 10**9),
        ("128974848", 128974848),
        ("1.5Gi", 3 * 2**29),
        ("1k", 1000),
    ],
)
def test_bytes(value, count):
    assert bytes_of(value) == count


@pytest.mark.parametrize("value", ["-1", "abc", "1.2.3", "4gi", "", "1 Gi", True])
def test_malformed_quantities_are_refused(value):
    with pytest.raises(ValueError):
        bytes_of(value)


def test_sub_millicore_rounds_up():
    assert cpu_millicores("0.0001") == 1


def test_formatting_round_trips():
    assert format_millicores(2000) == "2"
    assert format_millicores(250) == "250m"
    assert format_bytes(8 * 2**30) == "8Gi"
    assert format_bytes(1000) == "1000"


@pytest.mark.parametrize(
    "value", [float("nan"), float("inf"), float("-inf"), "NaN", "Infinity", "1e999999999"]
)
def test_non_finite_and_out_of_range_quantities_are_value_errors(value):
    with pytest.raises(ValueError):
        cpu_millicores(value)
    with pytest.raises(ValueError):
        bytes_of(value)


def test_a_quantity_beyond_64_bits_is_refused():
    with pytest.raises(ValueError, match="too large"):
        cpu_millicores("10E")
    assert bytes_of("7Ei") == 7 * 2**60


def test_human_units():
    from shared.quantity import human_bytes, human_cores

    assert [human_cores(m) for m in (11500, 12000, 250, 1)] == ["11.5", "12", "0.25", "0.001"]
    assert [human_bytes(b) for b in (15 * 2**29, 2**29, 1000, 3 * 2**40 // 2)] == [
        "7.5Gi",
        "512Mi",
        "1000 bytes",
        "1.5Ti",
    ]
