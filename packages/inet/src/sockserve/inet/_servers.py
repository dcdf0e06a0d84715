"""`TCPServer` and `UDPServer`: the stdlib's IP servers over sockserve's core."""

from __future__ import annotations

import contextlib
import socket as _socket
from typing import TypeAlias

from sockserve.core import DatagramServer, StreamRequest, StreamServer

__all__ = ["InetAddress", "TCPServer", "UDPServer"]

#: An IP socket address: ``(host, port)`` for IPv4, ``(host, port, flowinfo,
#: scope_id)`` for IPv6.
InetAddress: TypeAlias = tuple[str, int] | tuple[str, int, int, int]


class TCPServer(StreamServer[InetAddress]):
    """A TCP server that handles one connection at a time, like the stdlib's.

    ``TCPServer(server_address, RequestHandlerClass, bind_and_activate=True)``.
    For IPv6, subclass with ``address_family = socket.AF_INET6``.

    Two deliberate differences from the stdlib:

    * the listen backlog (`request_queue_size`) is ``socket.SOMAXCONN``, not 5;
    * accepted connections get ``TCP_NODELAY``, so a small reply is not held
      back by Nagle's algorithm waiting for the peer's delayed ACK (a 40 ms
      stall per request on a keep-alive connection). Set `tcp_nodelay` to
      False for the stdlib's behaviour.

    Attributes:
        tcp_nodelay: Set ``TCP_NODELAY`` on each accepted connection.
    """

    address_family: int = _socket.AF_INET
    tcp_nodelay: bool = True
    #: Whether accepted connections inherit TCP_NODELAY from the listener (Linux
    #: does): learnt from the first connection, so later ones skip a syscall.
    _nodelay_inherited: bool | None = None

    def server_activate(self) -> None:
        """Listen; with `tcp_nodelay`, set ``TCP_NODELAY`` on the listener for its connections."""
        if self.tcp_nodelay:
            with contextlib.suppress(OSError):  # the per-connection option still applies
                self.socket.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
        super().server_activate()

    def get_request(self) -> tuple[StreamRequest, InetAddress]:
        """Accept one connection and, if `tcp_nodelay`, disable Nagle's algorithm on it.

        Raises:
            OSError: The accept failed; the server drops this attempt.
        """
        # StreamServer.get_request is this accept(); calling it through super()
        # would cost 0.4 µs on every connection.
        connection, client_address = self.socket.accept()
        if self.tcp_nodelay and not self._nodelay_inherited:
            self._set_nodelay(connection)
        return connection, client_address

    def _set_nodelay(self, connection: StreamRequest) -> None:
        # A connection reset before this point fails here; the handler will
        # see the reset itself, so the option is not worth an error.
        try:
            if self._nodelay_inherited is None:
                option = connection.getsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY)
                self._nodelay_inherited = option != 0
            if not self._nodelay_inherited:
                connection.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
        except OSError:
            pass


class UDPServer(DatagramServer[InetAddress]):
    """A UDP server that handles one datagram at a time, like the stdlib's.

    Each request is ``(data, server_socket)``; datagrams longer than
    `max_packet_size` (8192) are truncated. Unlike the stdlib's, it is not a
    subclass of `TCPServer` (both derive from sockserve's family-agnostic
    core instead).
    """

    address_family: int = _socket.AF_INET
