"""The pool spec parser (pure functions; nothing faked)."""

import pytest

from services.network.pool import parse_pool


def test_cidr_gives_the_usable_hosts() -> None:
    addresses = parse_pool("198.51.100.0/24")
    assert len(addresses) == 254
    assert addresses[0] == "198.51.100.1" and addresses[-1] == "198.51.100.254"


def test_range_includes_both_ends_and_parts_merge_without_duplicates() -> None:
    addresses = parse_pool("198.51.100.10-198.51.100.25, 198.51.100.25,203.0.113.7")
    assert len(addresses) == 17
    assert addresses[0] == "198.51.100.10" and addresses[-1] == "203.0.113.7"


@pytest.mark.parametrize(
    "spec", ["", "not-an-address", "198.51.100.20-198.51.100.10", "10.0.0.0/8", "1.2.3.4-::1"]
)
def test_bad_specs_are_refused_naming_the_part(spec: str) -> None:
    with pytest.raises(ValueError):
        parse_pool(spec)
