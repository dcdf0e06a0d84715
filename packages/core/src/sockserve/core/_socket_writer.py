"""`SocketWriter`: the unbuffered ``wfile`` of a stream handler."""

from __future__ import annotations

import io
import socket as _socket

from ._types import TYPE_CHECKING

if TYPE_CHECKING:
    from typing_extensions import Buffer

__all__ = ["SocketWriter"]


class SocketWriter(io.BufferedIOBase):
    """A write-only binary file over a socket that sends each write at once.

    ``write()`` sends everything it is given (``sendall``, which resumes after
    a signal) and returns its length, so no ``flush()`` is needed. ``close()``
    leaves the socket open. ``read()`` and friends raise
    ``io.UnsupportedOperation``.
    """

    def __init__(self, sock: _socket.socket) -> None:
        self._sock = sock

    def writable(self) -> bool:
        """Return True: this file can be written."""
        return True

    def write(self, b: Buffer, /) -> int:
        """Send all of ``b``; block until it is in the socket's buffer.

        Raises:
            OSError: The connection failed, or the socket timeout expired.
        """
        self._sock.sendall(b)
        with memoryview(b) as view:
            return view.nbytes

    def fileno(self) -> int:
        """Return the socket's descriptor (the CGI handler dups it onto stdout)."""
        return self._sock.fileno()
