"""IP address management: pools, gateways and the next free address of a subnet.

Rules as neutron's (neutron/ipam/utils.py and the built-in IPAM driver): the
default pool is the whole CIDR minus the network, broadcast (IPv4) and
gateway addresses; pools must lie inside the CIDR, must not overlap and must
not hold the gateway. Addresses are handed out lowest first (neutron picks
at random within a window; lowest first keeps runs repeatable).
"""

from __future__ import annotations

import ipaddress
import itertools
from collections.abc import Iterable, Iterator

from stacklab.api.errors import BadRequest, Conflict

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Net = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_cidr(cidr: str, ip_version: int) -> Net:
    try:
        network = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        raise BadRequest(f"Invalid input for cidr. Reason: '{cidr}' is not a valid IP "
                         "subnet.") from None
    if network.version != ip_version:
        raise BadRequest("Invalid input for operation: Cidr and IP version are incompatible.")
    if str(network) != cidr:
        raise BadRequest(f"Invalid input for cidr. Reason: '{cidr}' is not a valid IP "
                         "subnet.")
    if network.prefixlen >= network.max_prefixlen:
        raise BadRequest(f"Invalid input for operation: Invalid CIDR {cidr} for IPv"
                         f"{ip_version} address family.")
    return network


def default_gateway(network: Net) -> str:
    return str(network.network_address + 1)


def _usable(network: Net) -> tuple[int, int]:
    # The network address is never handed out; IPv4's broadcast address neither.
    first = int(network.network_address) + 1
    last = int(network.broadcast_address) - (1 if network.version == 4 else 0)
    return first, last


def default_pools(network: Net, gateway: str | None) -> list[dict[str, str]]:
    first, last = _usable(network)
    ranges = [(first, last)]
    if gateway:
        gw = int(ipaddress.ip_address(gateway))
        ranges = [(a, b) for a, b in ((first, gw - 1), (gw + 1, last)) if a <= b] \
            if first <= gw <= last else ranges
    cast = ipaddress.ip_address
    return [{"start": str(cast(a)), "end": str(cast(b))} for a, b in ranges]


def check_pools(network: Net, pools: list[dict[str, str]], gateway: str | None) -> None:
    spans = []
    for pool in pools:
        try:
            start = ipaddress.ip_address(pool["start"])
            end = ipaddress.ip_address(pool["end"])
        except (KeyError, ValueError):
            raise BadRequest(f"Invalid input for allocation_pools. Reason: {pool} is not a "
                             "valid pool.") from None
        if start.version != network.version or end.version != network.version \
                or int(start) > int(end) or start not in network or end not in network:
            raise BadRequest(f"The allocation pool {pool['start']}-{pool['end']} spans beyond "
                             f"the subnet cidr {network}.")
        spans.append((int(start), int(end), pool))
    spans.sort(key=lambda s: s[0])
    for (_, end_a, a), (start_b, _, b) in itertools.pairwise(spans):
        if start_b <= end_a:
            raise BadRequest(f"Found overlapping allocation pools: {a['start']}-{a['end']} "
                             f"and {b['start']}-{b['end']} for subnet {network}.")
    if gateway:
        gw = int(ipaddress.ip_address(gateway))
        for low, high, pool in spans:
            if low <= gw <= high:
                raise Conflict(f"Gateway ip {gateway} conflicts with allocation pool "
                               f"{pool['start']}-{pool['end']}")


def in_pools(address: str, pools: Iterable[dict[str, str]]) -> bool:
    value = int(ipaddress.ip_address(address))
    return any(int(ipaddress.ip_address(p["start"])) <= value
               <= int(ipaddress.ip_address(p["end"])) for p in pools)


def candidates(pools: Iterable[dict[str, str]]) -> Iterator[str]:
    for pool in pools:
        start = int(ipaddress.ip_address(pool["start"]))
        end = int(ipaddress.ip_address(pool["end"]))
        version = ipaddress.ip_address(pool["start"]).version
        for value in range(start, end + 1):
            yield str(ipaddress.ip_address(value) if version == 4
                      else ipaddress.IPv6Address(value))


def next_free(pools: list[dict[str, str]], used: set[str]) -> str | None:
    for address in candidates(pools):
        if address not in used:
            return address
    return None


def eui64(cidr: str, mac: str) -> str:
    """The SLAAC address of ``mac`` on an IPv6 /64: the MAC with ff:fe in the middle and
    its universal/local bit flipped (RFC 4291 appendix A)."""
    octets = bytearray(int(part, 16) for part in mac.split(":"))
    octets[0] ^= 0x02
    interface = int.from_bytes(bytes(octets[:3]) + b"\xff\xfe" + bytes(octets[3:]), "big")
    network = ipaddress.IPv6Network(cidr)
    return str(ipaddress.IPv6Address(int(network.network_address) | interface))


def nth_candidate(pools: Iterable[dict[str, str]], index: int) -> str | None:
    """The ``index``-th address of the pools (0-based), without walking them."""
    for pool in pools:
        start = ipaddress.ip_address(pool["start"])
        size = int(ipaddress.ip_address(pool["end"])) - int(start) + 1
        if index < size:
            return str(start + index)
        index -= size
    return None
