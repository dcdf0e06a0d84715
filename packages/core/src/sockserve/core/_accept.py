"""Accepting a connection: ``socket.accept()``, without its per-call enum conversions."""

from __future__ import annotations

import _socket
import socket as _socket_module
from collections.abc import Callable

from ._types import TYPE_CHECKING

if TYPE_CHECKING:
    from _socket import _RetAddress  # typeshed's: whatever the family's address is

__all__ = ["accept_connection"]

# The C socket's own fields and accept: socket.socket's family and type
# properties build an enum on each read (four Python calls each), and
# accept() itself is one more.
_family: Callable[[_socket_module.socket], int] = _socket.socket.family.__get__
_type: Callable[[_socket_module.socket], int] = _socket.socket.type.__get__
_proto: Callable[[_socket_module.socket], int] = _socket.socket.proto.__get__
_accept: Callable[[_socket_module.socket], tuple[int, _RetAddress]] = _socket.socket._accept  # type: ignore[attr-defined]


def accept_connection(listener: _socket_module.socket) -> tuple[_socket_module.socket, _RetAddress]:
    """Accept one connection on ``listener``: what ``listener.accept()`` returns, made cheaper.

    Blocks as ``accept()`` does. For a plain ``socket.socket`` the result is
    the same ``socket.socket`` (the listener's family, type and protocol,
    blocking if the listener has a timeout and there is no default timeout),
    built without the nine Python calls ``accept()`` makes; every request of
    every model pays those, and a forking server's parent pays each call's
    pages again after every fork. A subclass (an ``ssl.SSLSocket``, say) may
    do more in its ``accept()``: that is called.

    Raises:
        OSError: The accept failed (``BlockingIOError`` if none is waiting on
            a non-blocking listener, ``TimeoutError`` past its timeout).
    """
    if type(listener) is not _socket_module.socket:
        return listener.accept()
    descriptor, address = _accept(listener)
    connection = _socket_module.socket(
        _family(listener), _type(listener), _proto(listener), descriptor
    )
    if _socket_module.getdefaulttimeout() is None and listener.gettimeout():
        connection.setblocking(True)
    return connection, address
