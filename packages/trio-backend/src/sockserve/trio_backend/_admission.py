"""The async twin of the core's admission, for async handlers: PROXY header, access control.

The steps and their order are the core's (`sockserve.core` ``admit``); only
the reading of a PROXY header waits here, in the request's own task, so
that a slow header holds no thread and delays no other client.
"""

from __future__ import annotations

import socket as _socket
from typing import TYPE_CHECKING

import trio

from sockserve.core import (
    AddressT,
    AdmissionError,
    ProxyProtocol,
    RequestT,
    parse_proxy_header,
    proxy_header_length,
)

if TYPE_CHECKING:
    from ._mixin import TrioMixIn

__all__ = ["admit_async"]


async def admit_async(
    server: TrioMixIn[RequestT, AddressT], request: RequestT, client_address: AddressT
) -> AddressT:
    """Run the server's PROXY and access steps; return the address to handle.

    Raises:
        AdmissionError: A step refused the connection.
        ValueError: A PROXY header was asked of a datagram server.
    """
    proxy = server.proxy_protocol
    if proxy is not None:
        if not isinstance(request, _socket.socket):
            raise ValueError("proxy_protocol is for stream servers; this server gets datagrams")
        client_address = await _read_proxy_header(proxy, request, client_address)
    access = server.access
    if access is not None:
        reason = access(request, client_address)
        if reason is not None:
            raise AdmissionError(f"access denied: {reason}")
    return client_address


async def _read_proxy_header(
    proxy: ProxyProtocol, sock: _socket.socket, peer: AddressT
) -> AddressT:
    proxy.check_trusted(sock, peer)
    with trio.move_on_after(proxy.timeout):
        header = await _read_header(sock, proxy.max_size)
        address = parse_proxy_header(header)
        return peer if address is None else address  # type: ignore[return-value]  # the client's real address
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
        try:  # MSG_DONTWAIT: the connection may still be in blocking mode here
            data = sock.recv(size, flags | _socket.MSG_DONTWAIT)
        except BlockingIOError:
            await trio.lowlevel.wait_readable(sock)
            continue
        except OSError as exc:
            raise AdmissionError(f"the connection failed during its PROXY header: {exc}") from None
        if not data:
            raise AdmissionError("the connection closed before its PROXY header ended")
        return data
