"""mypy-only proofs: trio-backend servers satisfy the documented interface; handlers are typed.

Checked by ``mypy --strict`` (hatch run types:check), never run.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any, assert_type

import trio

from sockserve.core import (
    BaseServer,
    DatagramRequest,
    DatagramRequestHandler,
    DrainResult,
    ServerProtocol,
    SocketAddress,
    StreamRequest,
    StreamRequestHandler,
)
from sockserve.inet import InetAddress, TCPServer, UDPServer
from sockserve.trio_backend import (
    AsyncDatagramRequestHandler,
    AsyncStreamRequestHandler,
    BufferedSocketStream,
    TrioMixIn,
)
from sockserve.unix import UnixAddress, UnixDatagramAddress, UnixDatagramServer, UnixStreamServer


class TrioTCPServer(TrioMixIn[StreamRequest, InetAddress], TCPServer):
    lines = 0


class TrioUDPServer(TrioMixIn[DatagramRequest, InetAddress], UDPServer):
    pass


class TrioUnixStreamServer(TrioMixIn[StreamRequest, UnixAddress], UnixStreamServer):
    pass


class TrioUnixDatagramServer(TrioMixIn[DatagramRequest, UnixDatagramAddress], UnixDatagramServer):
    pass


def tcp(server: TrioTCPServer) -> ServerProtocol[StreamRequest, InetAddress]:
    return server


def udp(server: TrioUDPServer) -> ServerProtocol[DatagramRequest, InetAddress]:
    return server


def unix_stream(server: TrioUnixStreamServer) -> ServerProtocol[StreamRequest, UnixAddress]:
    return server


def unix_datagram(
    server: TrioUnixDatagramServer,
) -> ServerProtocol[DatagramRequest, UnixDatagramAddress]:
    return server


class TypedEcho(AsyncStreamRequestHandler[TrioTCPServer, InetAddress]):
    async def handle(self) -> None:
        assert_type(self.server, TrioTCPServer)
        assert_type(self.client_address, InetAddress)
        assert_type(self.request, socket.socket)
        assert_type(self.stream, BufferedSocketStream)
        line = await self.receive_line()
        assert_type(line, bytes)
        self.server.lines += 1
        await self.send(line)


class PlainEcho(AsyncStreamRequestHandler):
    async def handle(self) -> None:
        assert_type(self.server, BaseServer[Any, Any])
        assert_type(self.server.request_shutdown, Callable[[], None])
        assert_type(self.client_address, SocketAddress)
        await self.stream.send_all(await self.stream.receive_some())


class Upper(AsyncDatagramRequestHandler[TrioUDPServer, InetAddress]):
    async def handle(self) -> None:
        assert_type(self.packet, bytes)
        await self.reply(self.packet.upper())


class SyncEcho(StreamRequestHandler[TrioTCPServer, InetAddress]):
    def handle(self) -> None:
        self.wfile.write(self.rfile.readline())


class SyncUpper(DatagramRequestHandler[TrioUDPServer, InetAddress]):
    def handle(self) -> None:
        self.wfile.write(self.rfile.read().upper())


def servers_take_both_handler_styles() -> None:
    TrioTCPServer(("127.0.0.1", 0), TypedEcho).server_close()
    TrioTCPServer(("127.0.0.1", 0), PlainEcho).server_close()
    TrioTCPServer(("127.0.0.1", 0), SyncEcho).server_close()
    TrioUDPServer(("127.0.0.1", 0), Upper).server_close()
    TrioUDPServer(("127.0.0.1", 0), SyncUpper).server_close()


def a_handler_for_another_server_is_rejected() -> None:
    TrioUDPServer(("127.0.0.1", 0), TypedEcho)  # type: ignore[arg-type]
    TrioTCPServer(("127.0.0.1", 0), Upper)  # type: ignore[arg-type]


async def structured(server: TrioTCPServer) -> DrainResult:
    async with trio.open_nursery() as nursery:
        await nursery.start(server.serve)  # trio types what start() returns as Any
        return await server.adrain(5.0)


def classic(server: TrioTCPServer) -> DrainResult:
    server.request_drain(1.0)
    return server.drain(5.0)
