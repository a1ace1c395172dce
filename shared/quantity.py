"""Kubernetes resource quantities ("500m", "2", "4Gi") to exact integers in base units.

CPU is counted in millicores and memory and storage in bytes, so quota arithmetic is exact
(no floating point anywhere in the ledger).
"""

from __future__ import annotations

import math
import re
from decimal import Decimal

_SUFFIXES = {
    "": Decimal(1),
    "m": Decimal("0.001"),
    "k": Decimal(10**3),
    "M": Decimal(10**6),
    "G": Decimal(10**9),
    "T": Decimal(10**12),
    "P": Decimal(10**15),
    "E": Decimal(10**18),
    "Ki": Decimal(2**10),
    "Mi": Decimal(2**20),
    "Gi": Decimal(2**30),
    "Ti": Decimal(2**40),
    "Pi": Decimal(2**50),
    "Ei": Decimal(2**60),
}
MAX_UNITS = 2**63 - 1
_PATTERN = re.compile(
    r"^([+]?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$"
)


def parse_quantity(value: str | int | float) -> Decimal:
    """A quantity as an exact Decimal in base units; ValueError when malformed, negative or
    not finite (NaN and Infinity, which JSON and YAML readers let through as floats)."""
    if isinstance(value, bool):
        raise ValueError("a quantity cannot be a boolean")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"a quantity must be a finite number, not {value}")
    if isinstance(value, int | float):
        number = Decimal(str(value))
    else:
        match = _PATTERN.match(value.strip())
        if not match:
            raise ValueError(f"{value!r} is not a Kubernetes quantity (e.g. 500m, 2, 4Gi)")
        try:
            number = Decimal(match.group(1)) * _SUFFIXES[match.group(2) or ""]
        except ArithmeticError as exc:  # invalid, or beyond Decimal's exponent range
            raise ValueError(f"{value!r} is not a number") from exc
    if number < 0:
        raise ValueError("a quantity cannot be negative")
    return number


def cpu_millicores(value: str | int | float) -> int:
    """CPU in millicores, rounded up like the apiserver does for sub-milli values."""
    return _bounded(value, parse_quantity(value) * 1000)


def bytes_of(value: str | int | float) -> int:
    """Memory or storage in bytes, rounded up."""
    return _bounded(value, parse_quantity(value))


def _bounded(value: str | int | float, units: Decimal) -> int:
    # Ledger columns are 64-bit integers, as are the apiserver's own quantities.
    if units > MAX_UNITS:
        raise ValueError(f"{value!r} is too large for a quantity")
    return int(units.to_integral_value(rounding="ROUND_CEILING"))


def format_millicores(millis: int) -> str:
    return f"{millis // 1000}" if millis % 1000 == 0 else f"{millis}m"


def format_bytes(count: int) -> str:
    for suffix, size in (("Ti", 2**40), ("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
        if count and count % size == 0:
            return f"{count // size}{suffix}"
    return str(count)


def _decimal_text(value: Decimal, places: int) -> str:
    text = f"{value.quantize(Decimal(1).scaleb(-places)):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def human_cores(millis: int) -> str:
    """Millicores as cores for people: 11500 -> "11.5", 12000 -> "12"."""
    return _decimal_text(Decimal(millis) / 1000, 3)


def human_bytes(count: int) -> str:
    """Bytes in the largest binary unit that fits, two decimals at most: "7.5Gi", "512Mi"."""
    for suffix in ("Ei", "Pi", "Ti", "Gi", "Mi", "Ki"):
        size = _SUFFIXES[suffix]
        if count >= size:
            return f"{_decimal_text(Decimal(count) / size, 2)}{suffix}"
    return f"{count} bytes"
