"""Which IP family a server's address asks for: IPv6 needs no subclass.

The stdlib's IP servers are IPv4 unless a subclass sets ``address_family``
(CPython gh-64414). sockserve's take the family from the address itself;
an ``address_family`` set by a subclass, or on an instance, still wins.
"""

from __future__ import annotations

import socket as _socket

__all__ = ["DUAL_STACK_HOSTS", "family_of_host", "host_and_port"]

#: The hosts a dual-stack server may bind: every address, of both families.
DUAL_STACK_HOSTS = frozenset({"", "::"})


def family_of_host(host: object, socket_type: int) -> int:
    """``AF_INET6`` for an IPv6 literal or a name that resolves to IPv6 first; else ``AF_INET``.

    ``""`` (every interface) is IPv4, as in the stdlib. A host that is not a
    string is left to ``bind()`` to reject, with the stdlib's error.

    Raises:
        socket.gaierror: ``host`` is a name that does not resolve.
    """
    if not isinstance(host, str) or host == "":
        return _socket.AF_INET
    literal = host.partition("%")[0]  # "fe80::1%eth0"
    for family in (_socket.AF_INET, _socket.AF_INET6):
        try:  # inet_pton, not ipaddress: a forked child copies every module loaded
            _socket.inet_pton(family, literal)
        except OSError:
            continue
        return family
    # No port: a bad one is bind()'s to reject, with the stdlib's error.
    infos = _socket.getaddrinfo(host, None, 0, socket_type, 0, _socket.AI_PASSIVE)
    return int(infos[0][0])


def host_and_port(host: str, port: int) -> str:
    """``HOST:PORT`` for people to read, an IPv6 host in brackets (``[::1]:8000``)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
