"""Request handlers: the stdlib's three, typed by request, server and address."""

from __future__ import annotations

import errno
import io
import socket as _socket

from ._socket_writer import SocketWriter
from ._types import (
    TYPE_CHECKING,
    AddressT,
    DatagramRequest,
    Generic,
    RequestT,
    StreamRequest,
    TypeVar,
)

if TYPE_CHECKING:
    from typing import Any, ClassVar

__all__ = [
    "BaseRequestHandler",
    "DatagramRequestHandler",
    "ServerT",
    "StreamRequestHandler",
    "require_reply_address",
]

#: The server a handler expects. A handler that names none accepts any of
#: sockserve's servers and sees it as a `BaseServer` (``request_shutdown()``
#: included) whose hooks take Any.
if TYPE_CHECKING:
    from ._base_server import BaseServer

    ServerT = TypeVar("ServerT", default=BaseServer[Any, Any])
else:  # _base_server imports this module; the default is for type checkers only
    ServerT = TypeVar("ServerT")


class BaseRequestHandler(Generic[RequestT, ServerT, AddressT]):
    """Handles one request; a server instantiates it once per request.

    The constructor stores its arguments, calls `setup`, then `handle`, then
    `finish` (even if `handle` raised; not if `setup` raised). Exceptions
    propagate to the server, which reports them through ``handle_error``.

    Type parameters, all optional: the request type, the server class the
    handler expects (so ``self.server`` has its attributes), and the client
    address type.
    """

    request: RequestT
    client_address: AddressT
    server: ServerT

    def __init__(self, request: RequestT, client_address: AddressT, server: ServerT) -> None:
        self.request = request
        self.client_address = client_address
        self.server = server
        self.setup()
        try:
            self.handle()
        finally:
            self.finish()

    def setup(self) -> None:
        """Prepare for `handle`; does nothing here."""

    def handle(self) -> None:
        """Serve the request; does nothing here."""

    def finish(self) -> None:
        """Clean up after `handle`; does nothing here."""


class StreamRequestHandler(BaseRequestHandler[StreamRequest, ServerT, AddressT]):
    """A handler for a connection, read through `rfile` and written through `wfile`.

    Attributes:
        rbufsize: Buffer size of `rfile`; -1 (default) buffers, 0 gives the raw
            ``socket.SocketIO``.
        wbufsize: Buffer size of `wfile`; 0 (default) sends every write at
            once, other values buffer until ``flush()``.
        timeout: If not None, the connection's timeout: a read or write that
            waits longer raises ``TimeoutError``.
        disable_nagle_algorithm: Set ``TCP_NODELAY`` on the connection.
            (sockserve's ``TCPServer`` already does, by default.)
        connection: The connected socket (the same object as `request`).
        rfile: Reads from the connection.
        wfile: Writes to the connection.
    """

    rbufsize: ClassVar[int] = -1
    wbufsize: ClassVar[int] = 0
    timeout: ClassVar[float | None] = None
    disable_nagle_algorithm: ClassVar[bool] = False

    connection: StreamRequest
    rfile: io.BufferedIOBase
    wfile: io.BufferedIOBase

    def setup(self) -> None:
        """Apply `timeout` and `disable_nagle_algorithm`; open `rfile` and `wfile`."""
        self.connection = self.request
        if self.timeout is not None:
            self.connection.settimeout(self.timeout)
        if self.disable_nagle_algorithm:
            self.connection.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, True)
        # rbufsize 0 yields a raw SocketIO; typed as the buffered file it
        # stands in for, as typeshed does, since both read the same way. Not a
        # cast() call: this runs in every forked child, where a call costs pages.
        self.rfile = self.connection.makefile("rb", self.rbufsize)  # type: ignore[assignment]
        if self.wbufsize == 0:
            self.wfile = SocketWriter(self.connection)
        else:
            self.wfile = self.connection.makefile("wb", self.wbufsize)  # type: ignore[assignment]

    def finish(self) -> None:
        """Flush `wfile` (ignoring a failed flush: the peer may be gone), close both files.

        The connection itself stays open; the server closes it.
        """
        if not self.wfile.closed:
            # Not contextlib.suppress: it costs 0.35 µs, paid on every connection.
            try:  # noqa: SIM105
                self.wfile.flush()
            except OSError:
                pass
        self.wfile.close()
        self.rfile.close()


class DatagramRequestHandler(BaseRequestHandler[DatagramRequest, ServerT, AddressT]):
    """A handler for one datagram: read it from `rfile`, write the reply to `wfile`.

    `finish` sends whatever was written to `wfile` back to the client as one
    datagram, even when nothing was written (an empty datagram), as the stdlib
    does.

    Attributes:
        packet: The datagram received.
        socket: The server's socket, which the reply is sent through.
        rfile: Reads the datagram.
        wfile: Collects the reply.
    """

    packet: bytes
    socket: _socket.socket
    rfile: io.BytesIO
    wfile: io.BytesIO

    def setup(self) -> None:
        """Unpack the request and open `rfile` and `wfile` in memory."""
        self.packet, self.socket = self.request
        self.rfile = io.BytesIO(self.packet)
        self.wfile = io.BytesIO()

    def finish(self) -> None:
        """Send `wfile`'s contents to the client as one datagram.

        Raises:
            OSError: The reply could not be sent; ``errno.EDESTADDRREQ`` when
                the client is an unbound Unix socket, which has no address to
                reply to. The server reports it through ``handle_error``.
        """
        require_reply_address(self.client_address)
        self.socket.sendto(self.wfile.getvalue(), self.client_address)  # type: ignore[call-overload]  # AddressT is a socket address


def require_reply_address(client_address: object) -> None:
    """Check that a datagram client can be replied to.

    Raises:
        OSError: ``errno.EDESTADDRREQ`` when ``client_address`` is None: the
            client is an unbound Unix datagram socket and has no address.
    """
    if client_address is None:
        # The stdlib passes None on to sendto(), which fails with an
        # unhelpful TypeError (CPython gh-152024).
        raise OSError(
            errno.EDESTADDRREQ,
            "cannot send the reply: the client's Unix datagram socket is not bound "
            "to an address (the client must bind() to receive replies)",
        )
