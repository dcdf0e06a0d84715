"""`TLSSocketStream`: a TLS connection as a trio stream, for async handlers.

The connection is a non-blocking ``ssl.SSLSocket`` whose handshake is done
(by the server's admission, in the connection's task): a receive tries
first and waits only when TLS says so (decrypted bytes may be buffered
while the socket itself has nothing to read), and a send waits for
whichever direction TLS needs.
"""

from __future__ import annotations

import socket as _socket
import ssl
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from trio.lowlevel import (
    cancel_shielded_checkpoint,
    checkpoint_if_cancelled,
    wait_readable,
    wait_writable,
)

from ._stream import BufferedSocketStream, _stream_error

if TYPE_CHECKING:
    from typing_extensions import Buffer

__all__ = ["TLSSocketStream"]

T = TypeVar("T")
R = TypeVar("R")


class TLSSocketStream(BufferedSocketStream):
    """A `BufferedSocketStream` over an ``ssl.SSLSocket`` (handshake done, non-blocking).

    The same methods and errors as `BufferedSocketStream`; the peer closing
    its TLS session, with or without ``close_notify``, reads as end of file.
    """

    async def _receive(self, size: int) -> bytes:
        self._check_can_receive()
        self._receiving = True
        try:
            await checkpoint_if_cancelled()
            try:
                data: bytes = await self._when_tls_can(self._socket.recv, size)
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):  # the peer ended its session
                data = b""
            await cancel_shielded_checkpoint()
            self.activity += 1
            return data
        finally:
            self._receiving = False

    async def send_all(self, data: Buffer) -> None:
        """As `BufferedSocketStream.send_all`, over TLS: waits for whatever TLS needs."""
        self._check_can_send()
        self._sending = True
        try:
            await checkpoint_if_cancelled()
            with memoryview(data) as view, view.cast("B") as octets:
                sent = 0
                while sent < len(octets):
                    sent += await self._when_tls_can(self._socket.send, octets[sent:])
                    self.activity += 1
            await cancel_shielded_checkpoint()
        finally:
            self._sending = False

    def _shut_write(self) -> None:
        # A TCP FIN, while receiving through TLS goes on: TLS has no half-close
        # peers agree on, and the TLS socket's own shutdown() drops its TLS
        # state. The peer reads the end without a close_notify, which most
        # clients take as end of file.
        _socket.socket.shutdown(self._socket, _socket.SHUT_WR)

    async def _when_tls_can(self, operation: Callable[[T], R], argument: T) -> R:
        """``operation(argument)``, retried once the socket can do what TLS wants of it.

        Raises:
            ssl.SSLZeroReturnError, ssl.SSLEOFError: The peer ended its session.
            trio.BrokenResourceError, trio.ClosedResourceError: The connection failed.
        """
        while True:
            try:
                return operation(argument)
            except ssl.SSLWantReadError:
                await wait_readable(self._socket)
            except ssl.SSLWantWriteError:
                await wait_writable(self._socket)
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                raise
            except OSError as exc:
                raise _stream_error(exc) from exc
