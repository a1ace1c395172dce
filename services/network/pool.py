"""The load-balancer pool spec: CIDRs and inclusive ranges, comma-separated.

"198.51.100.0/24"                   the usable hosts of the network (.1 to .254)
"198.51.100.10-198.51.100.25"       16 addresses, both ends included
"198.51.100.0/28,203.0.113.7"       several parts; duplicates count once
"""

from __future__ import annotations

import ipaddress

MAX_POOL_SIZE = 65536


def parse_pool(spec: str) -> list[str]:
    """The addresses of a pool spec, in order; ValueError names the bad part."""
    addresses: list[str] = []
    seen: set[str] = set()
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        for address in _part(part):
            if address not in seen:
                seen.add(address)
                addresses.append(address)
            if len(addresses) > MAX_POOL_SIZE:
                raise ValueError(f"the pool has more than {MAX_POOL_SIZE} addresses")
    if not addresses:
        raise ValueError(f"the pool {spec!r} holds no address")
    return addresses


def _part(part: str) -> list[str]:
    try:
        if "-" in part:
            first, last = (ipaddress.ip_address(p.strip()) for p in part.split("-", 1))
            if first.version != last.version or int(last) < int(first):
                raise ValueError("a range runs from a lower to a higher address")
            if int(last) - int(first) >= MAX_POOL_SIZE:
                raise ValueError(f"more than {MAX_POOL_SIZE} addresses")
            return [str(ipaddress.ip_address(n)) for n in range(int(first), int(last) + 1)]
        network = ipaddress.ip_network(part, strict=False)
        if network.num_addresses > MAX_POOL_SIZE:
            raise ValueError(f"more than {MAX_POOL_SIZE} addresses")
        return [str(a) for a in network.hosts()] or [str(network.network_address)]
    except ValueError as exc:
        raise ValueError(f"bad pool part {part!r}: {exc}") from exc
