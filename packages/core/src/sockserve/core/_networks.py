"""IP networks a client address can be checked against: CIDR lists, both families."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    import ipaddress

__all__ = ["IPNetwork", "Networks", "ip_of"]

# ipaddress is imported where it is used: servers without access lists never map it.
IPNetwork: TypeAlias = "ipaddress.IPv4Network | ipaddress.IPv6Network"
IPAddress: TypeAlias = "ipaddress.IPv4Address | ipaddress.IPv6Address"


class Networks:
    """A list of IP networks, IPv4 and IPv6: ``"10.0.0.0/8" in Networks(["10.0.0.0/8"])``.

    An IPv4-mapped IPv6 address (``::ffff:10.1.2.3``, what a dual-stack
    socket reports for an IPv4 client) is checked as the IPv4 address it is.

    Args:
        networks: CIDR strings (``"192.0.2.0/24"``, ``"2001:db8::/32"``), single
            addresses (``"127.0.0.1"``), or ``ipaddress`` network objects.

    Raises:
        TypeError: ``networks`` is a single string, or holds something else.
        ValueError: An entry is not a network (the message names it).
    """

    def __init__(self, networks: Iterable[str | IPNetwork]) -> None:
        import ipaddress

        if isinstance(networks, str | bytes):
            raise TypeError(f"networks must be a list of networks, not one string: {networks!r}")
        parsed: list[IPNetwork] = []
        for network in networks:
            if not isinstance(network, str | ipaddress.IPv4Network | ipaddress.IPv6Network):
                raise TypeError(f"a network must be a CIDR string, got {network!r}")
            try:
                parsed.append(_unmapped(ipaddress.ip_network(network)))
            except ValueError as exc:
                raise ValueError(f"not an IP network: {network!r} ({exc})") from None
        self.networks: tuple[IPNetwork, ...] = tuple(parsed)

    def __contains__(self, address: object) -> bool:
        """Whether ``address`` (an IP string, or a socket address tuple) is in one of them."""
        ip = ip_of(address)
        return ip is not None and any(ip in network for network in self.networks)

    def __repr__(self) -> str:
        return f"Networks({[str(n) for n in self.networks]!r})"


def _unmapped(network: IPNetwork) -> IPNetwork:
    """An IPv4-mapped IPv6 network as the IPv4 one it is (addresses are checked unmapped)."""
    import ipaddress

    mapped_block = ipaddress.IPv6Network("::ffff:0:0/96")
    if isinstance(network, ipaddress.IPv6Network) and network.subnet_of(mapped_block):
        mapped = network.network_address.ipv4_mapped
        assert mapped is not None
        return ipaddress.IPv4Network((mapped, network.prefixlen - 96))
    return network


def ip_of(address: object) -> IPAddress | None:
    """The IP address of a socket address (IPv4-mapped IPv6 unmapped); None if not an IP one."""
    import ipaddress

    host = address[0] if isinstance(address, tuple) and address else address
    if not isinstance(host, str):
        return None
    try:
        ip = ipaddress.ip_address(host.partition("%")[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip
