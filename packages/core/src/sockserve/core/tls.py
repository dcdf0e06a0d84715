"""The server side of a TLS handshake, bounded by one deadline for the whole of it.

A module of its own, imported only by servers with an ``ssl_context``:
``ssl`` is heavy, and a server that forks pays for every page it maps.
"""

from __future__ import annotations

import select
import socket as _socket
import ssl
import time
from collections.abc import Callable

from ._refusal import AdmissionError

__all__ = ["tls_handshake", "wrap"]


def tls_handshake(
    context: ssl.SSLContext,
    sock: _socket.socket,
    timeout: float,
    on_wrapped: Callable[[ssl.SSLSocket], None] | None = None,
) -> ssl.SSLSocket:
    """Wrap ``sock`` in TLS and complete the handshake within ``timeout`` seconds in all.

    A client that sends its handshake a byte at a time cannot stretch the
    deadline (a socket timeout would restart at each byte). ``sock`` is
    detached once wrapped: use the returned socket, which keeps ``sock``'s
    timeout. ``on_wrapped`` gets the TLS socket before the handshake (a
    drain must be able to cut it mid-handshake).

    Raises:
        AdmissionError: The client is gone, the handshake failed, or did
            not end in time (the connection is then closed).
    """
    previous = sock.gettimeout()
    tls = wrap(context, sock)
    if on_wrapped is not None:
        on_wrapped(tls)
    try:
        _handshake_by(tls, time.monotonic() + timeout, timeout)
    except BaseException:
        tls.close()
        raise
    tls.settimeout(previous)
    return tls


def wrap(context: ssl.SSLContext, sock: _socket.socket) -> ssl.SSLSocket:
    """``sock`` in a server-side TLS socket, its handshake not begun.

    Raises:
        AdmissionError: The client has gone already (or the context is unfit).
    """
    try:
        # Asked first: wrap_socket detaches the socket before it finds the
        # client gone, and its half-made TLS socket would leak the descriptor.
        sock.getpeername()
        return context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
    except (OSError, ValueError) as exc:
        raise AdmissionError(f"TLS handshake failed: {exc}") from None


def _handshake_by(tls: ssl.SSLSocket, deadline: float, timeout: float) -> None:
    tls.setblocking(False)
    poller = select.poll()
    poller.register(tls.fileno(), select.POLLIN)
    while True:
        try:
            tls.do_handshake()
            return
        except ssl.SSLWantReadError:
            poller.modify(tls.fileno(), select.POLLIN)
        except ssl.SSLWantWriteError:
            poller.modify(tls.fileno(), select.POLLOUT)
        except (ssl.SSLError, OSError) as exc:
            raise AdmissionError(f"TLS handshake failed: {exc}") from None
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not poller.poll(remaining * 1000):
            raise AdmissionError(f"TLS handshake not done within {timeout:g} s")
