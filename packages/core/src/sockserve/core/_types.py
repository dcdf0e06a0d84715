"""Type variables and aliases shared by every sockserve package."""

from __future__ import annotations

import socket
from typing import TypeAlias

from typing_extensions import TypeVar

__all__ = [
    "AddressT",
    "DatagramRequest",
    "RequestT",
    "SocketAddress",
    "StreamRequest",
]

#: The request a stream server hands to its handler: the accepted connection.
StreamRequest: TypeAlias = socket.socket

#: The request a datagram server hands to its handler: the datagram and the
#: server's own socket, to reply through.
DatagramRequest: TypeAlias = tuple[bytes, socket.socket]

#: Every shape of address a socket of a family sockserve serves can report:
#: ``(host, port)`` for IPv4, ``(host, port, flowinfo, scope_id)`` for IPv6,
#: a path (``str``, or ``bytes`` for Linux's abstract namespace) for Unix
#: sockets, and ``None`` for an unbound Unix datagram peer.
SocketAddress: TypeAlias = tuple[str, int] | tuple[str, int, int, int] | str | bytes | None

#: The type of the request a server produces and its handlers receive.
RequestT = TypeVar("RequestT", default=StreamRequest | DatagramRequest)

#: The type of a server's addresses and of its clients' addresses.
AddressT = TypeVar("AddressT", default=SocketAddress)
