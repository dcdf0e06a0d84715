"""Async request handlers: the stdlib's three handler shapes, with ``async`` methods."""

from __future__ import annotations

import functools
import socket as _socket
import sys
from typing import TYPE_CHECKING, ClassVar

import trio
from trio.lowlevel import cancel_shielded_checkpoint, checkpoint_if_cancelled, wait_writable

from sockserve.core import (
    AddressT,
    DatagramRequest,
    Generic,
    RequestT,
    ServerT,
    StreamRequest,
    require_reply_address,
)

from ._stream import DEFAULT_MAX_SIZE, BufferedSocketStream

if TYPE_CHECKING:
    from typing_extensions import Buffer

__all__ = [
    "AsyncBaseRequestHandler",
    "AsyncDatagramRequestHandler",
    "AsyncStreamRequestHandler",
    "is_async_handler",
]


class AsyncBaseRequestHandler(Generic[RequestT, ServerT, AddressT]):
    """Handles one request in a trio task; a trio server creates one per request.

    The server constructs it as ``RequestHandlerClass(request,
    client_address, server)``, which only stores the three (no I/O), then
    awaits `setup`, `handle` and (even if `handle` raised or was cancelled)
    `finish`; not `finish` if `setup` raised. Exceptions go to the server's
    ``handle_error``; a cancellation (a drain's deadline, an idle timeout,
    ``shutdown()``) ends the handler at its current ``await``.

    Type parameters, all optional, as on the sync handlers: the request
    type, the server class the handler expects, and the client address type.
    """

    request: RequestT
    client_address: AddressT
    server: ServerT

    def __init__(self, request: RequestT, client_address: AddressT, server: ServerT) -> None:
        self.request = request
        self.client_address = client_address
        self.server = server

    async def setup(self) -> None:
        """Prepare for `handle`; does nothing here."""

    async def handle(self) -> None:
        """Serve the request; does nothing here."""

    async def finish(self) -> None:
        """Clean up after `handle`; does nothing here."""


class AsyncStreamRequestHandler(AsyncBaseRequestHandler[StreamRequest, ServerT, AddressT]):
    """A handler for one connection, which it reads and writes through `stream`.

    ``self.stream`` is a trio stream (``trio.abc.HalfCloseableStream``; over
    TLS when the server has an ``ssl_context``, its handshake done), so
    trio-ecosystem protocol libraries such as h11 can drive it; `receive_line`,
    `receive_exactly` and `send` cover simple protocols. The server closes the
    connection after `finish`.

    Attributes:
        max_size: The default limit of `receive_line` (the longest line,
            newline included) and `receive_exactly`.
        stream: The connection.
    """

    max_size: ClassVar[int] = DEFAULT_MAX_SIZE

    stream: BufferedSocketStream

    def __init__(self, request: StreamRequest, client_address: AddressT, server: ServerT) -> None:
        super().__init__(request, client_address, server)
        self.stream = _stream_for(request, self.max_size)

    async def receive_line(self, max_size: int | None = None) -> bytes:
        """Return the next line, its newline included (``b""`` at end of file).

        See `BufferedSocketStream.receive_line`: an over-long line raises
        `LineTooLongError`, so memory stays bounded by ``max_size``.
        """
        return await self.stream.receive_line(max_size)

    async def receive_exactly(self, count: int) -> bytes:
        """Return exactly ``count`` bytes; see `BufferedSocketStream.receive_exactly`."""
        return await self.stream.receive_exactly(count)

    async def send(self, data: bytes | bytearray | memoryview) -> None:
        """Send all of ``data``; see `BufferedSocketStream.send_all`."""
        await self.stream.send_all(data)


class AsyncDatagramRequestHandler(AsyncBaseRequestHandler[DatagramRequest, ServerT, AddressT]):
    """A handler for one datagram: read `packet`, answer with `reply`.

    Attributes:
        packet: The datagram received.
        socket: The server's socket (non-blocking while the server serves).
    """

    packet: bytes
    socket: _socket.socket

    def __init__(self, request: DatagramRequest, client_address: AddressT, server: ServerT) -> None:
        super().__init__(request, client_address, server)
        self.packet, self.socket = request

    async def reply(self, data: Buffer) -> None:
        """Send ``data`` to the client as one datagram; wait if the socket's buffer is full.

        May be called any number of times, or not at all (unlike the sync
        handler, nothing is sent when it is not called).

        Raises:
            OSError: The datagram could not be sent; ``errno.EDESTADDRREQ``
                when the client is an unbound Unix socket.
        """
        require_reply_address(self.client_address)
        await checkpoint_if_cancelled()
        while True:
            try:
                self.socket.sendto(data, self.client_address)  # type: ignore[call-overload]  # AddressT is a socket address
            except BlockingIOError:
                await _wait_to_send(self.socket)
                continue
            break
        await cancel_shielded_checkpoint()


def _stream_for(request: StreamRequest, max_size: int) -> BufferedSocketStream:
    """The stream over a connection: a TLS one if the server's admission wrapped it."""
    ssl = sys.modules.get("ssl")  # not imported: no connection can be TLS
    if ssl is not None and isinstance(request, ssl.SSLSocket):
        from ._tls_stream import TLSSocketStream

        return TLSSocketStream(request, max_size=max_size)
    return BufferedSocketStream(request, max_size=max_size)


#: How long a reply waits, on a full buffer, when another handler already waits on the socket.
_BUSY_RETRY = 0.001


async def _wait_to_send(sock: _socket.socket) -> None:
    """Wait until ``sock`` may take a datagram; handlers handled at once share the socket.

    trio lets one task at a time wait on a descriptor: the others retry shortly.
    """
    try:
        await wait_writable(sock)
    except trio.BusyResourceError:
        await trio.sleep(_BUSY_RETRY)


def is_async_handler(handler_class: object) -> bool:
    """Whether ``handler_class`` makes async handlers (a subclass, or a partial of one).

    Anything else is taken for a sync handler, which runs in a worker thread.
    """
    if isinstance(handler_class, functools.partial):
        return is_async_handler(handler_class.func)
    return isinstance(handler_class, type) and issubclass(handler_class, AsyncBaseRequestHandler)
