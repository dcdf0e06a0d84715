"""Socket servers of any address family: the stream and datagram bases.

The family lives in the subclasses (``sockserve.inet``, ``sockserve.unix``),
so that each of those packages depends on this core alone.
"""

from __future__ import annotations

import socket as _socket
from collections.abc import Callable

from ._accept import accept_connection
from ._base_server import BaseServer
from ._types import TYPE_CHECKING, AddressT, DatagramRequest, RequestT, StreamRequest

if TYPE_CHECKING:
    from typing import ClassVar, Self

__all__ = ["DatagramServer", "SocketServer", "StreamServer"]

# SO_REUSEPORT means "share this port" for IP only; Linux 6.12.9 and later
# reject it on AF_UNIX sockets with EOPNOTSUPP (CPython gh-128916).
_REUSE_PORT_FAMILIES = frozenset({_socket.AF_INET, _socket.AF_INET6})


class SocketServer(BaseServer[RequestT, AddressT]):
    """A `BaseServer` that owns a socket of ``address_family`` and ``socket_type``.

    The constructor creates the socket, then (if ``bind_and_activate``) calls
    `server_bind` and `server_activate`; if either raises, the socket is closed
    and the exception propagates.

    Attributes:
        address_family: The socket family; subclasses must set it.
        socket_type: The socket type; subclasses must set it.
        allow_reuse_address: Set ``SO_REUSEADDR`` before binding.
        allow_reuse_port: Set ``SO_REUSEPORT`` before binding (IP families only).
        request_queue_size: The listen backlog (stream servers only).
        socket: The server's socket.
    """

    address_family: int
    socket_type: int
    allow_reuse_address: bool = False
    allow_reuse_port: bool = False
    # The kernel caps the backlog at net.core.somaxconn; the stdlib's 5 drops
    # connections under a burst as small as 16 (CPython 3.15 made this change).
    request_queue_size: int = _socket.SOMAXCONN
    socket: _socket.socket
    server_address: AddressT

    def __init__(
        self,
        server_address: AddressT,
        RequestHandlerClass: Callable[[RequestT, AddressT, Self], object],
        bind_and_activate: bool = True,
    ) -> None:
        BaseServer.__init__(self, server_address, RequestHandlerClass)
        self.socket = _socket.socket(self._family(), self._required("socket_type"))
        if bind_and_activate:
            try:
                self.server_bind()
                self.server_activate()
            except BaseException:
                self.server_close()
                raise

    @classmethod
    def from_socket(
        cls,
        sock: _socket.socket,
        RequestHandlerClass: Callable[[RequestT, AddressT, Self], object],
    ) -> Self:
        """A server on ``sock``, a socket made elsewhere: already bound, and listening or not.

        The server owns ``sock`` from then on (`server_close` closes it, and
        removes no socket file). A stream socket not yet listening is made
        to listen (`server_activate`); a listening one keeps its backlog.

        Raises:
            TypeError: ``sock`` is not a socket.
            ValueError: ``sock`` is of another family or type than the
                server's, or is not bound.
        """
        from ._adopt import check_adoptable, require_socket  # adopting is rare: loaded for it

        address = require_socket(sock, cls.__name__).getsockname()
        server = cls(address, RequestHandlerClass, bind_and_activate=False)  # type: ignore[arg-type]  # cls is Self
        try:
            check_adoptable(sock, server.address_family, server.socket_type, cls.__name__)
        except BaseException:
            server.server_close()
            raise
        server.socket.close()
        server.socket = sock
        server.server_address = address
        if sock.type == _socket.SOCK_STREAM and not _is_listening(sock):
            try:
                server.server_activate()
            except BaseException:
                server.server_close()  # the server owns the socket now
                raise
        return server

    @classmethod
    def from_fd(
        cls, fd: int, RequestHandlerClass: Callable[[RequestT, AddressT, Self], object]
    ) -> Self:
        """A server on the socket at descriptor ``fd`` (inherited, say), as `from_socket`.

        The server owns the descriptor from then on.

        Raises:
            TypeError: ``fd`` is not an int.
            OSError: ``fd`` is not an open socket.
            ValueError: As `from_socket`.
        """
        from ._adopt import require_fd

        sock = _socket.socket(fileno=require_fd(fd))
        try:
            return cls.from_socket(sock, RequestHandlerClass)
        except BaseException:
            if sock.fileno() != -1:
                sock.detach()  # not adopted: the descriptor is still the caller's
            raise

    @classmethod
    def from_systemd(
        cls,
        RequestHandlerClass: Callable[[RequestT, AddressT, Self], object],
        name: str | None = None,
    ) -> Self:
        """A server on a socket systemd passed (socket activation), as `from_socket`.

        Args:
            RequestHandlerClass: As for the constructor.
            name: The socket's name (``FileDescriptorName=`` in the unit,
                ``--fdname`` for ``systemd-socket-activate``); None: the
                only socket passed.

        Raises:
            RuntimeError: The process was not socket-activated.
            ValueError: No socket has that name, or several were passed and
                ``name`` is None; or as `from_socket`.
        """
        from ._adopt import return_activated_socket, take_activated_socket

        label, sock = take_activated_socket(name)
        try:
            return cls.from_socket(sock, RequestHandlerClass)
        except BaseException:
            if sock.fileno() != -1:
                return_activated_socket(label, sock)  # another server may adopt it
            raise

    def _family(self) -> int:
        """The family of the socket to create: `address_family` here; IP servers infer it."""
        return self._required("address_family")

    def _required(self, name: str) -> int:
        value = getattr(self, name, None)
        if not isinstance(value, int):
            raise TypeError(
                f"{type(self).__name__}.{name} must be set to a socket constant, got {value!r}"
            )
        return value

    def server_bind(self) -> None:
        """Apply the reuse options, bind, and record the address actually bound.

        After this, `server_address` is ``socket.getsockname()`` (so port 0
        becomes the port the system chose).

        Raises:
            OSError: The address cannot be bound.
        """
        if self.allow_reuse_address and hasattr(_socket, "SO_REUSEADDR"):
            self.socket.setsockopt(_socket.SOL_SOCKET, _socket.SO_REUSEADDR, 1)
        if (
            self.allow_reuse_port
            and hasattr(_socket, "SO_REUSEPORT")
            and self.address_family in _REUSE_PORT_FAMILIES
        ):
            self.socket.setsockopt(_socket.SOL_SOCKET, _socket.SO_REUSEPORT, 1)
        self.socket.bind(self.server_address)  # type: ignore[arg-type]  # AddressT is a socket address
        self.server_address = self.socket.getsockname()

    def server_close(self) -> None:
        """Close the socket. Safe to call more than once.

        Called while `serve_forever` runs in another thread (instead of
        ``shutdown()`` first), it also stops that loop, which would otherwise
        wait on the closed socket forever or spin on it.
        """
        if self._is_serving() and not self._is_serving_thread():
            self._stop_before_close()
        self.socket.close()

    def fileno(self) -> int:
        """Return the socket's file descriptor (-1 once closed)."""
        return self.socket.fileno()


def _is_listening(sock: _socket.socket) -> bool:
    try:
        return bool(sock.getsockopt(_socket.SOL_SOCKET, _socket.SO_ACCEPTCONN))
    except OSError:  # no SO_ACCEPTCONN here: listen() again, which keeps it listening
        return False


class StreamServer(SocketServer[StreamRequest, AddressT]):
    """A connection-oriented server: each request is an accepted socket."""

    socket_type: int = _socket.SOCK_STREAM

    def server_activate(self) -> None:
        """Listen with a backlog of `request_queue_size`."""
        self.socket.listen(self.request_queue_size)

    def get_request(self) -> tuple[StreamRequest, AddressT]:
        """Accept one connection.

        Raises:
            OSError: The accept failed; the server drops this attempt.
        """
        return accept_connection(self.socket)

    def shutdown_request(self, request: StreamRequest) -> None:
        """Shut the connection down for writing (the peer sees EOF), then close it."""
        # ENOTCONN when the peer has already gone: closing is all that is left.
        # Not contextlib.suppress: it costs 0.35 µs, paid on every connection.
        try:  # noqa: SIM105
            request.shutdown(_socket.SHUT_WR)
        except OSError:
            pass
        self.close_request(request)

    def close_request(self, request: StreamRequest) -> None:
        """Close the connection."""
        request.close()


class DatagramServer(SocketServer[DatagramRequest, AddressT]):
    """A datagram server: each request is ``(data, server_socket)``.

    Attributes:
        max_packet_size: The most bytes read from one datagram; the rest of a
            longer datagram is discarded (as the stdlib does).
    """

    socket_type: int = _socket.SOCK_DGRAM
    max_packet_size: ClassVar[int] = 8192

    def server_activate(self) -> None:
        """Do nothing: a datagram socket does not listen."""

    def get_request(self) -> tuple[DatagramRequest, AddressT]:
        """Receive one datagram.

        Raises:
            OSError: The receive failed; the server drops this attempt.
        """
        data, client_address = self.socket.recvfrom(self.max_packet_size)
        return (data, self.socket), client_address

    def shutdown_request(self, request: DatagramRequest) -> None:
        """Do what `close_request` does: there is no connection to shut down."""
        self.close_request(request)

    def close_request(self, request: DatagramRequest) -> None:
        """Do nothing: the socket is the server's, shared by every request."""
