"""`TCPServer` and `UDPServer`: the stdlib's IP servers over sockserve's core."""

from __future__ import annotations

import socket as _socket

from sockserve.core import (
    DatagramRequest,
    DatagramServer,
    RequestT,
    SocketServer,
    StreamRequest,
    StreamServer,
    accept_connection,
)

from ._family import DUAL_STACK_HOSTS, family_of_host

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without loading typing (see sockserve.core._types)
if TYPE_CHECKING:
    from typing import TypeAlias

__all__ = ["InetAddress", "TCPServer", "UDPServer"]

#: An IP socket address: ``(host, port)`` for IPv4, ``(host, port, flowinfo,
#: scope_id)`` for IPv6.
InetAddress: TypeAlias = tuple[str, int] | tuple[str, int, int, int]


class _InetServer(SocketServer[RequestT, InetAddress]):
    """What TCP and UDP servers share: the family taken from the address, and dual-stack.

    Attributes:
        address_family: ``AF_INET`` as in the stdlib; but unless a subclass
            (or the instance) sets it, the family is the address's own:
            ``("::1", 0)`` makes an IPv6 server, ``("localhost", 0)`` whichever
            family the name resolves to first. The instance's attribute is
            then set to the family used.
        dual_stack: True: one IPv6 socket on ``"::"`` (or ``""``) takes IPv4
            clients too (their addresses read ``"::ffff:10.1.2.3"``); False:
            IPv6 clients only; None (the default): the system's default, as
            the stdlib leaves it.
    """

    address_family: int = _socket.AF_INET
    dual_stack: bool | None = None
    # Declared here, not only through SocketServer's type variable: in the
    # stdlib idiom ``class S(ThreadingMixIn, TCPServer)`` the unparametrised
    # mix-in comes first, and this declaration is what keeps the address type.
    server_address: InetAddress

    def _family(self) -> int:
        """The family to create the socket with (see `address_family`).

        Raises:
            ValueError: `dual_stack` is True for an address other than
                ``"::"`` or ``""``.
            socket.gaierror: The address is a host name that does not resolve.
        """
        family = self._required("address_family")
        if self.dual_stack:
            self.server_address = _dual_stack_address(self.server_address)
            family = _socket.AF_INET6
        elif _family_is_the_default(self, family):
            host, _port = _host_and_port(self.server_address)
            family = family_of_host(host, self._required("socket_type"))
        self.address_family = family
        return family

    def server_bind(self) -> None:
        """Set ``IPV6_V6ONLY`` as `dual_stack` says, then bind as the stdlib does.

        Raises:
            OSError: The address cannot be bound.
        """
        if self.dual_stack is not None and self.address_family == _socket.AF_INET6:
            self.socket.setsockopt(_socket.IPPROTO_IPV6, _socket.IPV6_V6ONLY, not self.dual_stack)
        super().server_bind()


def _family_is_the_default(server: object, family: int) -> bool:
    """Whether ``address_family`` is sockserve's default, not set by a subclass or the instance."""
    if "address_family" in vars(server):
        return False
    for cls in type(server).__mro__:
        if "address_family" in vars(cls):
            return cls is _InetServer and family == _socket.AF_INET
    return False


def _host_and_port(address: object) -> tuple[object, object]:
    if isinstance(address, tuple) and len(address) >= 2:
        return address[0], address[1]
    return None, None  # not an IP address: bind() rejects it, as in the stdlib


def _dual_stack_address(address: InetAddress) -> InetAddress:
    host, port = _host_and_port(address)
    if host not in DUAL_STACK_HOSTS:
        raise ValueError(
            f"dual_stack binds every address of both families: use '::' or '', not {host!r}"
        )
    return ("::", port, 0, 0) if isinstance(port, int) else address


class TCPServer(_InetServer[StreamRequest], StreamServer[InetAddress]):
    """A TCP server that handles one connection at a time, like the stdlib's.

    ``TCPServer(server_address, RequestHandlerClass, bind_and_activate=True)``.
    The family comes from the address: ``TCPServer(("::1", 8000), Handler)``
    serves IPv6, and `dual_stack` serves both on one socket.

    Three deliberate differences from the stdlib:

    * IPv6 needs no subclass (an ``address_family`` set by one still wins);
    * the listen backlog (`request_queue_size`) is ``socket.SOMAXCONN``, not 5;
    * accepted connections get ``TCP_NODELAY``, so a small reply is not held
      back by Nagle's algorithm waiting for the peer's delayed ACK (a 40 ms
      stall per request on a keep-alive connection). Set `tcp_nodelay` to
      False for the stdlib's behaviour.

    Attributes:
        tcp_nodelay: Set ``TCP_NODELAY`` on each accepted connection.
    """

    tcp_nodelay: bool = True
    #: Whether accepted connections inherit TCP_NODELAY from the listener (Linux
    #: does): learnt from the first connection, so later ones skip a syscall.
    _nodelay_inherited: bool | None = None

    def server_activate(self) -> None:
        """Listen; with `tcp_nodelay`, set ``TCP_NODELAY`` on the listener for its connections."""
        if self.tcp_nodelay:
            # No contextlib: every module loaded is memory a forked child copies.
            try:  # noqa: SIM105
                self.socket.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
            except OSError:  # the per-connection option still applies
                pass
        super().server_activate()

    def get_request(self) -> tuple[StreamRequest, InetAddress]:
        """Accept one connection and, if `tcp_nodelay`, disable Nagle's algorithm on it.

        Raises:
            OSError: The accept failed; the server drops this attempt.
        """
        # StreamServer.get_request is this accept; calling it through super()
        # would cost 0.4 µs on every connection.
        connection, client_address = accept_connection(self.socket)
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


class UDPServer(_InetServer[DatagramRequest], DatagramServer[InetAddress]):
    """A UDP server that handles one datagram at a time, like the stdlib's.

    Each request is ``(data, server_socket)``; datagrams longer than
    `max_packet_size` (8192) are truncated. The family comes from the
    address, as for `TCPServer`. Unlike the stdlib's, it is not a subclass
    of `TCPServer` (both derive from sockserve's family-agnostic core).
    """
