"""The async twin of the core's admission, for async handlers: PROXY header, access, TLS.

The steps and their order are the core's (`sockserve.core` ``admit``); the
reading of a PROXY header and the TLS handshake wait here, in the
request's own task, so that a slow client holds no thread and delays no
other one.
"""

from __future__ import annotations

import socket as _socket
import ssl  # trio imports it anyway (trio.SSLStream)
from typing import TYPE_CHECKING

import trio

from sockserve.core import (
    AddressT,
    AdmissionError,
    ProxyProtocol,
    RequestT,
    check_access,
    check_seconds,
    proxy_header_length,
    stream_socket,
)
from sockserve.core.tls import wrap

from ._blocking import nonblocking

if TYPE_CHECKING:
    from ._mixin import TrioMixIn

__all__ = ["admit_async"]


async def admit_async(
    server: TrioMixIn[RequestT, AddressT], request: RequestT, client_address: AddressT
) -> tuple[RequestT, AddressT]:
    """Run the server's admission steps; return the request and address to handle.

    The request becomes a non-blocking ``ssl.SSLSocket`` after a TLS handshake.

    Raises:
        AdmissionError: A step refused the connection.
        ValueError: A PROXY header or TLS was asked of a datagram server, or
            ``handshake_timeout`` is not above 0.
        TypeError: ``handshake_timeout`` is not a number.
    """
    proxy = server.proxy_protocol
    if proxy is not None:
        sock = stream_socket(request, "proxy_protocol")
        client_address = await _read_proxy_header(proxy, sock, client_address)
    try:
        check_access(server, request, client_address)
        context = server.ssl_context
        if context is not None:
            sock = stream_socket(request, "ssl_context")
            timeout = check_seconds(server.handshake_timeout, "handshake_timeout")
            request = await _tls_handshake(context, sock, timeout)  # type: ignore[assignment]  # a stream request
    except AdmissionError as refusal:
        refusal.client_address = client_address  # the real one, for the log line
        raise
    return request, client_address


async def _tls_handshake(
    context: ssl.SSLContext, sock: _socket.socket, timeout: float
) -> ssl.SSLSocket:
    tls = wrap(context, sock)
    try:
        tls.setblocking(False)
        with trio.move_on_after(timeout):
            await _handshake(tls)
            return tls
        raise AdmissionError(f"TLS handshake not done within {timeout:g} s")
    except BaseException:
        tls.close()
        raise


async def _handshake(tls: ssl.SSLSocket) -> None:
    while True:
        try:
            tls.do_handshake()
            return
        except ssl.SSLWantReadError:
            await trio.lowlevel.wait_readable(tls)
        except ssl.SSLWantWriteError:
            await trio.lowlevel.wait_writable(tls)
        except (ssl.SSLError, OSError) as exc:
            raise AdmissionError(f"TLS handshake failed: {exc}") from None


async def _read_proxy_header(
    proxy: ProxyProtocol, sock: _socket.socket, peer: AddressT
) -> AddressT:
    proxy.check_trusted(sock, peer)
    with trio.move_on_after(proxy.timeout), nonblocking(sock):
        header = await _read_header(sock, proxy.max_size)
        return proxy.address_from(header, sock, peer)  # type: ignore[return-value]  # the client's real address
    raise AdmissionError(f"no complete PROXY header within {proxy.timeout:g} s")


async def _read_header(sock: _socket.socket, limit: int) -> bytes:
    header = b""
    while True:
        peeked = await _receive(sock, limit - len(header), _socket.MSG_PEEK)
        length = proxy_header_length(header + peeked, limit)
        count = len(peeked) if length is None else length - len(header)
        while count:  # exactly the header: what follows is the handler's
            chunk = await _receive(sock, count, 0)
            header += chunk
            count -= len(chunk)
        if length is not None:
            return header


async def _receive(sock: _socket.socket, size: int, flags: int) -> bytes:
    while True:
        try:
            data = sock.recv(size, flags)
        except BlockingIOError:
            await trio.lowlevel.wait_readable(sock)
            continue
        except OSError as exc:
            raise AdmissionError(f"the connection failed during its PROXY header: {exc}") from None
        if not data:
            raise AdmissionError("the connection closed before its PROXY header ended")
        return data
