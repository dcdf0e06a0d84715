"""Type variables, aliases and ``Generic``, shared by every sockserve package.

Nothing here imports ``typing`` at run time: the drop-in's import path must
not, because every module loaded is memory that each forked child of a
``ForkingMixIn`` server copies (``typing`` brings ``re``, ``contextlib`` and
``warnings``: measured, 15% of a forking server's requests per second).
Type checkers read ``typing``'s own, through the ``TYPE_CHECKING`` blocks.
"""

from __future__ import annotations

import socket
import types

TYPE_CHECKING = False  # typing.TYPE_CHECKING, which type checkers also honour under this name
if TYPE_CHECKING:
    from typing import Any, Generic, TypeAlias

    # PEP 696 defaults, read by type checkers.
    from typing_extensions import TypeVar
else:

    class TypeVar:
        """A type variable at run time: a name; its bounds and default are for type checkers."""

        __slots__ = ("__name__",)

        def __init__(self, name: str, *constraints: object, **options: object) -> None:
            self.__name__ = name

        def __repr__(self) -> str:
            return f"~{self.__name__}"

    class Generic:
        """``typing.Generic`` at run time: ``Class[X, Y]`` works (as a base class too)."""

        __slots__ = ()

        def __class_getitem__(cls, parameters: object) -> types.GenericAlias:
            arguments = parameters if isinstance(parameters, tuple) else (parameters,)
            return types.GenericAlias(cls, arguments)


__all__ = [
    "AddressT",
    "DatagramRequest",
    "Generic",
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

if TYPE_CHECKING:
    #: The type of the request a server produces and its handlers receive.
    RequestT = TypeVar("RequestT", default=StreamRequest | DatagramRequest)
    #: The type of a server's addresses and of its clients' addresses.
    AddressT = TypeVar("AddressT", default=SocketAddress)
else:
    RequestT, AddressT = TypeVar("RequestT"), TypeVar("AddressT")

# A mix-in serves whatever the server it is mixed into serves. Unparametrised
# (``class S(ThreadingMixIn, TCPServer)``, the stdlib's idiom) its hooks take
# Any, as typeshed's do, and the attributes the server declares keep their types.

if TYPE_CHECKING:
    #: The request type of a concurrency mix-in; Any unless it is parametrised.
    MixInRequestT = TypeVar("MixInRequestT", default=Any)
    #: The address type of a concurrency mix-in; Any unless it is parametrised.
    MixInAddressT = TypeVar("MixInAddressT", default=Any)
else:
    MixInRequestT, MixInAddressT = TypeVar("MixInRequestT"), TypeVar("MixInAddressT")
