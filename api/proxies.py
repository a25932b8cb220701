"""Who the client is when we sit behind proxies: X-Forwarded-For, believed only from proxies we run.

Anyone can send an X-Forwarded-For header, so a hop in it says nothing unless it was written by
a proxy we trust. Each proxy appends the address it saw to the right, so the list is walked from
the right: while the hop is one of our proxies, the address before it was written by that
proxy and can be believed. The first address that is not one of ours is the client (a
client-written prefix further left is ignored). A peer that is not one of our proxies is the
client, whatever it sends. With no trusted proxies (the default) the header is never read.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_networks(cidrs: Iterable[str]) -> tuple[Network, ...]:
    """``10.0.0.0/8``, ``192.168.1.7`` or ``::1``; ValueError names a bad one."""
    networks = []
    for cidr in cidrs:
        try:
            networks.append(ipaddress.ip_network(cidr.strip(), strict=False))
        except ValueError as e:
            raise ValueError(f"TRUSTED_PROXIES: {cidr!r} is not an address or network") from e
    return tuple(networks)


def parse_address(value: str) -> Address | None:
    """A hop as proxies write it: ``1.2.3.4``, ``1.2.3.4:5678``, ``::1`` or ``[::1]:80``;
    None when it is none of these (``unknown``, garbage)."""
    value = value.strip()
    if value.startswith("["):
        value = value[1:].partition("]")[0]
    elif value.count(":") == 1:  # IPv4 with a port; a bare IPv6 has several colons
        value = value.partition(":")[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class TrustedProxies:
    def __init__(self, cidrs: Iterable[str] = ()) -> None:
        self.networks = parse_networks(cidrs)

    def trusts(self, address: Address | None) -> bool:
        return address is not None and any(address in network for network in self.networks)

    def client(self, peer: str, forwarded_for: Sequence[str]) -> str:
        """The client's address, from the connection's ``peer`` and the X-Forwarded-For
        header(s) as received (several headers count as one list, in order)."""
        nearest = parse_address(peer)
        if not self.trusts(nearest):
            return peer
        assert nearest is not None
        hops = [hop for header in forwarded_for for hop in header.split(",")]
        for hop in reversed(hops):
            if not hop.strip():
                continue
            address = parse_address(hop)
            if address is None:
                break  # our proxy wrote no such thing: nothing to its left can be believed
            nearest = address
            if not self.trusts(address):
                break
        return str(nearest)
