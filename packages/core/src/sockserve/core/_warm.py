"""Warming a stream handler's file I/O in a process that is about to fork once per request.

The first time a process reads and writes a connection through its files,
CPython fills its method cache and the dynamic linker binds the C functions
involved. A forking server's parent never handles a request itself, so each
child used to do that work again, and to copy every page it wrote for it
(measured on CPython 3.11: 12 to 20 page faults per child). Done
once in the parent, before the first fork, every child inherits it done.
"""

from __future__ import annotations

import socket as _socket

from ._socket_writer import SocketWriter

__all__ = ["warm_stream_io"]

# Two rounds: the first binds and caches, the second runs what the first
# changed (a file's first close, say) the way every later one will.
_ROUNDS = 2


def warm_stream_io(rbufsize: int = -1, wbufsize: int = 0) -> None:
    """Read a line and write it back over a socket pair, as a stream handler's files do.

    Uses ``rbufsize`` and ``wbufsize`` as `StreamRequestHandler` does (a
    ``wbufsize`` of 0 writes through `SocketWriter`). Blocks for a few
    hundred microseconds; opens and closes its own two sockets. Best effort:
    a process out of descriptors skips it, and it never raises.
    """
    try:
        for _ in range(_ROUNDS):
            _echo_a_line(rbufsize, wbufsize)
    except OSError:  # no descriptors to spare, say: the children just start cold
        pass


def _echo_a_line(rbufsize: int, wbufsize: int) -> None:
    ours, theirs = _socket.socketpair()
    with ours, theirs:
        theirs.sendall(b"\n")
        reader = ours.makefile("rb", rbufsize)
        writer = SocketWriter(ours) if wbufsize == 0 else ours.makefile("wb", wbufsize)
        try:
            writer.write(reader.readline())
            writer.flush()
        finally:
            writer.close()
            reader.close()
        ours.shutdown(_socket.SHUT_WR)
        theirs.recv(1)
