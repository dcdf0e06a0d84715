"""mypy-only proofs: the Unix servers satisfy the documented interface, precisely typed.

Checked by ``mypy --strict`` (hatch run types:check), never run. Each
``type: ignore[code]`` marks an error that must stay an error: strict mypy
reports an unused one, so these fail the check if a type grew too loose.
"""

from __future__ import annotations

import socket
import socketserver
from typing import assert_type

from sockserve.core import (
    DatagramRequest,
    DatagramRequestHandler,
    ServerLifecycleProtocol,
    ServerProtocol,
    StreamRequest,
    StreamRequestHandler,
)
from sockserve.unix import UnixAddress, UnixDatagramAddress, UnixDatagramServer, UnixStreamServer

PATH = "/tmp/sockserve.sock"


def unix_stream(server: UnixStreamServer) -> ServerProtocol[StreamRequest, UnixAddress]:
    return server


def unix_datagram(
    server: UnixDatagramServer,
) -> ServerProtocol[DatagramRequest, UnixDatagramAddress]:
    return server


def stdlib_lifecycle(
    stream: socketserver.UnixStreamServer, datagram: socketserver.UnixDatagramServer
) -> tuple[ServerLifecycleProtocol, ServerLifecycleProtocol]:
    return stream, datagram


def ours_lifecycle(
    stream: UnixStreamServer, datagram: UnixDatagramServer
) -> tuple[ServerLifecycleProtocol, ServerLifecycleProtocol]:
    return stream, datagram


def the_address_types_are_precise(stream: UnixStreamServer, datagram: UnixDatagramServer) -> None:
    # A stream client may be bytes (an abstract name): str alone is too narrow.
    only_str: ServerProtocol[StreamRequest, str] = stream  # type: ignore[assignment]
    # A datagram client may be None (unbound): UnixAddress alone is too narrow.
    never_none: ServerProtocol[DatagramRequest, UnixAddress] = datagram  # type: ignore[assignment]
    # The server's own address is never None, though its clients' may be.
    assert_type(datagram.server_address, str | bytes)
    assert_type(stream.server_address, str | bytes)
    assert_type(stream.socket_mode, int | None)
    del only_str, never_none


class CountingServer(UnixStreamServer):
    handled = 0


class TypedStream(StreamRequestHandler[CountingServer, UnixAddress]):
    def handle(self) -> None:
        assert_type(self.request, socket.socket)
        assert_type(self.server, CountingServer)
        assert_type(self.client_address, str | bytes)
        assert_type(self.server.server_address, str | bytes)
        self.server.handled += 1


class PlainUnixStream(StreamRequestHandler[UnixStreamServer, UnixAddress]):
    def handle(self) -> None:
        assert_type(self.server, UnixStreamServer)
        assert_type(self.client_address, UnixAddress)


class TypedDatagram(DatagramRequestHandler[UnixDatagramServer, UnixDatagramAddress]):
    def handle(self) -> None:
        assert_type(self.request, tuple[bytes, socket.socket])
        assert_type(self.server, UnixDatagramServer)
        assert_type(self.client_address, str | bytes | None)
        if self.client_address is not None:
            self.wfile.write(self.rfile.read())


class StrClientsOnly(StreamRequestHandler[UnixStreamServer, str]):
    pass


def servers_accept_their_handlers() -> None:
    CountingServer(PATH, TypedStream).server_close()
    UnixStreamServer(PATH, PlainUnixStream).server_close()
    UnixStreamServer(b"\0abstract", StreamRequestHandler).server_close()
    UnixDatagramServer(PATH, TypedDatagram).server_close()


def mismatches_are_rejected() -> None:
    UnixStreamServer(PATH, TypedStream)  # type: ignore[arg-type]  # needs a CountingServer
    UnixStreamServer(PATH, TypedDatagram)  # type: ignore[arg-type]  # a datagram handler
    UnixStreamServer(PATH, StrClientsOnly)  # type: ignore[arg-type]  # clients may be bytes
    UnixDatagramServer(PATH, PlainUnixStream)  # type: ignore[arg-type]  # a stream handler
    UnixDatagramServer(None, TypedDatagram)  # type: ignore[arg-type]  # the server needs an address
    UnixStreamServer(("127.0.0.1", 0), PlainUnixStream)  # type: ignore[arg-type]  # not a Unix address
