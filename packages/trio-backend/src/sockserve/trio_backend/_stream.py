"""`BufferedSocketStream`: a connected socket as a trio stream, with bounded line reads.

Thinner than ``trio.SocketStream``: it calls the stdlib socket directly and
waits with ``trio.lowlevel``, so a receive costs one wait and one ``recv()``
rather than a failed ``recv()`` first, and a send costs no context managers.
Every method is still a trio checkpoint, as trio's own streams are.
"""

from __future__ import annotations

import errno
import socket as _socket
from collections.abc import Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING

import trio
from trio.lowlevel import (
    cancel_shielded_checkpoint,
    checkpoint,
    checkpoint_if_cancelled,
    notify_closing,
    wait_readable,
    wait_writable,
)

if TYPE_CHECKING:
    from typing_extensions import Buffer

__all__ = [
    "DEFAULT_MAX_SIZE",
    "BufferedSocketStream",
    "IncompleteReadError",
    "LineTooLongError",
    "on_stream_made",
]

#: The longest line `BufferedSocketStream.receive_line` accepts by default,
#: newline included, and the most `receive_exactly` may ask for: 64 KiB, as
#: http.server's 65,536-byte request line limit.
DEFAULT_MAX_SIZE = 65536
#: How much one ``recv()`` asks for: trio's default receive size.
_RECEIVE_SIZE = 65536


#: Set in a connection's task by its server: told of each stream made there.
_STREAM_MADE: ContextVar[Callable[[BufferedSocketStream], None] | None] = ContextVar(
    "sockserve_stream_made", default=None
)


def on_stream_made(callback: Callable[[BufferedSocketStream], None]) -> None:
    """Have ``callback`` called with each `BufferedSocketStream` made from now on in this task.

    A server watches its connections' activity this way (the idle timeout).
    """
    _STREAM_MADE.set(callback)


class LineTooLongError(ValueError):
    """Raised by `receive_line` when no newline arrives within the size limit.

    The bytes read so far stay buffered; the stream is no use for lines any
    more and should be closed.
    """


class IncompleteReadError(EOFError):
    """Raised by `receive_exactly` when the peer closes before sending enough.

    Attributes:
        partial: The bytes that did arrive (fewer than `expected`).
        expected: How many bytes were asked for.
    """

    def __init__(self, partial: bytes, expected: int) -> None:
        super().__init__(f"connection closed after {len(partial)} of {expected} bytes")
        self.partial = partial
        self.expected = expected


def _stream_error(exc: OSError) -> trio.ClosedResourceError | trio.BrokenResourceError:
    """The trio stream error that stands for a socket error, as ``trio.SocketStream`` has it."""
    if exc.errno == errno.EBADF:
        return trio.ClosedResourceError("the socket was closed")
    return trio.BrokenResourceError(f"the connection failed: {exc}")


class BufferedSocketStream(trio.abc.HalfCloseableStream):
    """A connected stream socket as a ``trio.abc.HalfCloseableStream``.

    Works wherever trio streams do (h11, trio's TLS, ``trio.StapledStream``),
    and adds `receive_line` and `receive_exactly`, which read through an
    internal buffer: `receive_some` returns buffered bytes first, so the
    three can be mixed. Errors are trio's: ``trio.BrokenResourceError`` when
    the connection fails, ``trio.ClosedResourceError`` after `aclose`,
    ``trio.BusyResourceError`` when two tasks send (or receive) at once.

    Args:
        sock: A connected ``SOCK_STREAM`` socket; it is made non-blocking.
        max_size: The default limit of `receive_line` and `receive_exactly`.

    Raises:
        TypeError: ``max_size`` is not an int.
        ValueError: ``max_size`` is below 1.
    """

    def __init__(self, sock: _socket.socket, *, max_size: int = DEFAULT_MAX_SIZE) -> None:
        self.max_size: int = _positive(max_size, "max_size")
        sock.setblocking(False)
        self._socket = sock
        self._buffer = bytearray()
        self._closed = False
        self._sending = False
        self._receiving = False
        self._sent_eof = False
        #: Successful receives and sends so far: an idle-timeout watcher
        #: reads it to tell an idle connection from a busy one.
        self.activity: int = 0
        stream_made = _STREAM_MADE.get()
        if stream_made is not None:
            stream_made(self)

    @property
    def socket(self) -> _socket.socket:
        """The socket this stream reads and writes (non-blocking)."""
        return self._socket

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        """Send all of ``data``; wait while the socket's buffer is full.

        Raises:
            trio.BusyResourceError: Another task is sending.
            trio.ClosedResourceError: The stream was closed, or `send_eof` called.
            trio.BrokenResourceError: The connection failed.
        """
        self._check_can_send()
        self._sending = True
        try:
            await checkpoint_if_cancelled()
            total = len(data) if isinstance(data, bytes | bytearray) else memoryview(data).nbytes
            # try/except, not a context manager: this runs once per send.
            try:
                sent = self._socket.send(data)
            except BlockingIOError:
                sent = 0
            except OSError as exc:
                raise _stream_error(exc) from exc
            if sent < total:
                await self._send_rest(data, sent)
            else:
                await cancel_shielded_checkpoint()
            self.activity += 1
        finally:
            self._sending = False

    async def _send_rest(self, data: Buffer, sent: int) -> None:
        with memoryview(data) as view, view.cast("B") as octets:
            while sent < len(octets):
                await wait_writable(self._socket)
                try:
                    sent += self._socket.send(octets[sent:])
                except BlockingIOError:
                    continue
                except OSError as exc:
                    raise _stream_error(exc) from exc
                self.activity += 1  # a long send to a slow reader is not idle

    async def wait_send_all_might_not_block(self) -> None:
        """Wait until the socket's send buffer has room.

        Raises:
            trio.BusyResourceError: Another task is sending.
            trio.ClosedResourceError: The stream was closed.
        """
        self._check_can_send()
        self._sending = True
        try:
            await wait_writable(self._socket)
        finally:
            self._sending = False

    async def send_eof(self) -> None:
        """Shut the socket down for writing: the peer reads end of file. Idempotent.

        Raises:
            trio.BusyResourceError: Another task is sending.
            trio.ClosedResourceError: The stream was closed.
        """
        if self._sending:
            raise trio.BusyResourceError("another task is sending on this stream")
        await checkpoint()
        if self._closed:
            raise trio.ClosedResourceError("the stream was closed")
        if not self._sent_eof:
            self._sent_eof = True
            try:
                self._shut_write()
            except OSError as exc:
                raise _stream_error(exc) from exc

    def _shut_write(self) -> None:
        self._socket.shutdown(_socket.SHUT_WR)

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        """Return up to ``max_bytes`` bytes (64 KiB by default), waiting for at least one.

        Returns ``b""`` once the peer has closed its side.

        Raises:
            TypeError: ``max_bytes`` is not an int.
            ValueError: ``max_bytes`` is below 1.
            trio.BusyResourceError: Another task is receiving.
            trio.ClosedResourceError: The stream was closed.
            trio.BrokenResourceError: The connection failed.
        """
        size = _RECEIVE_SIZE if max_bytes is None else _positive(max_bytes, "max_bytes")
        if self._buffer:
            self._check_can_receive()
            await checkpoint()
            return self._take(min(size, len(self._buffer)))
        return await self._receive(size)

    async def receive_line(self, max_size: int | None = None) -> bytes:
        """Return the next line, its newline included.

        At end of file, returns what is left without a newline, then ``b""``.

        Args:
            max_size: The longest line accepted, newline included; None: the
                stream's `max_size`.

        Raises:
            LineTooLongError: ``max_size`` bytes arrived without a newline.
            trio.BusyResourceError: Another task is receiving.
            trio.ClosedResourceError: The stream was closed.
            trio.BrokenResourceError: The connection failed.
        """
        limit = self.max_size if max_size is None else _positive(max_size, "max_size")
        if not self._buffer:
            chunk = await self._receive(_RECEIVE_SIZE)
            # The common case of a line protocol: one recv() brought one whole
            # line (or nothing: end of file), returned without copying.
            if chunk.find(b"\n") == len(chunk) - 1 and len(chunk) <= limit:
                return chunk
            self._buffer += chunk
        else:
            self._check_can_receive()
            await checkpoint()
        return await self._line_from_buffer(limit)

    async def _line_from_buffer(self, limit: int) -> bytes:
        scanned = 0
        while True:
            end = self._buffer.find(b"\n", scanned, limit) + 1
            if end:
                return self._take(end)
            if len(self._buffer) >= limit:
                raise LineTooLongError(f"no end of line within {limit} bytes")
            scanned = len(self._buffer)
            chunk = await self._receive(_RECEIVE_SIZE)
            if not chunk:
                return self._take(len(self._buffer))
            self._buffer += chunk

    async def receive_exactly(self, count: int, max_size: int | None = None) -> bytes:
        """Return exactly ``count`` bytes, waiting until they have all arrived.

        Args:
            count: How many bytes to return.
            max_size: The most ``count`` may be; None: the stream's `max_size`.

        Raises:
            TypeError: ``count`` is not an int.
            ValueError: ``count`` is negative or above the limit.
            IncompleteReadError: The peer closed first (an `EOFError`).
            trio.BusyResourceError: Another task is receiving.
            trio.ClosedResourceError: The stream was closed.
            trio.BrokenResourceError: The connection failed.
        """
        limit = self.max_size if max_size is None else _positive(max_size, "max_size")
        if isinstance(count, bool) or not isinstance(count, int):
            raise TypeError(f"receive_exactly() wants a count of bytes, got {count!r}")
        if not 0 <= count <= limit:
            raise ValueError(f"receive_exactly() wants 0 to {limit} bytes, got {count!r}")
        if len(self._buffer) >= count:
            self._check_can_receive()
            await checkpoint()
        while len(self._buffer) < count:
            chunk = await self._receive(max(count - len(self._buffer), _RECEIVE_SIZE))
            if not chunk:
                raise IncompleteReadError(self._take(len(self._buffer)), count)
            self._buffer += chunk
        return self._take(count)

    async def _receive(self, size: int) -> bytes:
        """One ``recv()`` after waiting for the socket to be readable."""
        self._check_can_receive()
        self._receiving = True
        try:
            sock = self._socket
            while True:
                # Wait first: right after a reply, a recv() would almost always
                # fail with EAGAIN, costing a syscall and an exception.
                await wait_readable(sock)
                try:
                    data = sock.recv(size)
                except BlockingIOError:  # woken spuriously: wait again
                    continue
                except OSError as exc:
                    raise _stream_error(exc) from exc
                self.activity += 1
                return data
        finally:
            self._receiving = False

    def _take(self, count: int) -> bytes:
        data = bytes(self._buffer[:count])
        del self._buffer[:count]
        return data

    async def aclose(self) -> None:
        """Close the socket; tasks waiting on it get ``trio.ClosedResourceError``. Idempotent."""
        if not self._closed:
            self._closed = True
            notify_closing(self._socket)
            self._socket.close()
        await checkpoint()

    def _check_can_send(self) -> None:
        if self._sending:
            raise trio.BusyResourceError("another task is sending on this stream")
        if self._closed:
            raise trio.ClosedResourceError("the stream was closed")
        if self._sent_eof:
            raise trio.ClosedResourceError("cannot send after send_eof()")

    def _check_can_receive(self) -> None:
        if self._receiving:
            raise trio.BusyResourceError("another task is receiving on this stream")
        if self._closed:
            raise trio.ClosedResourceError("the stream was closed")


def _positive(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be 1 or more, got {value!r}")
    return value
