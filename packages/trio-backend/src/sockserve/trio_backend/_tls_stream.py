"""`TLSSocketStream`: a TLS connection as a trio stream, for async handlers.

The connection is a non-blocking ``ssl.SSLSocket`` whose handshake is done
(by the server's admission, in the connection's task): a receive tries
first and waits only when TLS says so (decrypted bytes may be buffered
while the socket itself has nothing to read), and a send waits for
whichever direction TLS needs.
"""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING

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
            data = await self._receive_when_tls_can(size)
            await cancel_shielded_checkpoint()
            self.activity += 1
            return data
        finally:
            self._receiving = False

    async def _receive_when_tls_can(self, size: int) -> bytes:
        sock = self._socket
        while True:
            try:
                return sock.recv(size)
            except ssl.SSLWantReadError:
                await wait_readable(sock)
            except ssl.SSLWantWriteError:
                await wait_writable(sock)
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                return b""
            except OSError as exc:
                raise _stream_error(exc) from exc

    async def send_all(self, data: Buffer) -> None:
        """Send all of ``data`` over TLS; wait while TLS or the socket cannot take more.

        Raises:
            trio.BusyResourceError: Another task is sending.
            trio.ClosedResourceError: The stream was closed, or `send_eof` called.
            trio.BrokenResourceError: The connection failed.
        """
        self._check_can_send()
        self._sending = True
        try:
            await checkpoint_if_cancelled()
            with memoryview(data) as view, view.cast("B") as octets:
                sent = 0
                while sent < len(octets):
                    sent += await self._send_when_tls_can(octets[sent:])
                    self.activity += 1
            await cancel_shielded_checkpoint()
        finally:
            self._sending = False

    async def _send_when_tls_can(self, octets: memoryview) -> int:
        sock = self._socket
        while True:
            try:
                return sock.send(octets)
            except ssl.SSLWantWriteError:
                await wait_writable(sock)
            except ssl.SSLWantReadError:
                await wait_readable(sock)
            except OSError as exc:
                raise _stream_error(exc) from exc
