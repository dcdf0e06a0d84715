"""Type variables and aliases shared by every sockserve package."""

from __future__ import annotations

import socket
import typing
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    # PEP 696 defaults, read by type checkers. At run time the plain TypeVar
    # below stands in: typing_extensions costs 8 MiB and 30 ms to import, and
    # every forked child would copy those pages.
    from typing_extensions import TypeVar
else:

    def TypeVar(name: str, *constraints: object, default: object = None, **options: object):
        """A ``typing.TypeVar``; its ``default`` is for type checkers only."""
        return typing.TypeVar(name, *constraints, **options)


__all__ = [
    "AddressT",
    "DatagramRequest",
    "MixInAddressT",
    "MixInRequestT",
    "RequestT",
    "SocketAddress",
    "StreamRequest",
    "TypeVar",
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

# A mix-in serves whatever the server it is mixed into serves. Unparametrised
# (``class S(ThreadingMixIn, TCPServer)``, the stdlib's idiom) its hooks take
# Any, as typeshed's do, and the attributes the server declares keep their types.

#: The request type of a concurrency mix-in; Any unless it is parametrised.
MixInRequestT = TypeVar("MixInRequestT", default=Any)

#: The address type of a concurrency mix-in; Any unless it is parametrised.
MixInAddressT = TypeVar("MixInAddressT", default=Any)
