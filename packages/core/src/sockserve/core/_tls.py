"""The server side of a TLS handshake, bounded by one deadline for the whole of it."""

from __future__ import annotations

import select
import socket as _socket
import ssl
import time

from ._proxy_protocol import AdmissionError

__all__ = ["tls_handshake"]


def tls_handshake(context: ssl.SSLContext, sock: _socket.socket, timeout: float) -> ssl.SSLSocket:
    """Wrap ``sock`` in TLS and complete the handshake within ``timeout`` seconds in all.

    A client that sends its handshake a byte at a time cannot stretch the
    deadline (a socket timeout would restart at each byte). ``sock`` is
    detached either way: use the returned socket, which keeps ``sock``'s
    timeout.

    Raises:
        AdmissionError: The handshake failed, or did not end in time (the
            connection is then closed).
    """
    previous = sock.gettimeout()
    tls = context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
    try:
        _handshake_by(tls, time.monotonic() + timeout, timeout)
    except BaseException:
        tls.close()
        raise
    tls.settimeout(previous)
    return tls


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
