"""Fixtures for the trio backend's tests: every server family, and clients for each.

A `Family` names a sockserve server class of one address family and socket
type, how to bind it, and how a client talks to it. The families that need
``sockserve.inet`` or ``sockserve.unix`` are skipped where those packages are
not installed (the solo run of this package has core alone), except
``core-tcp``, a family built from core's ``StreamServer`` here.

Every socket is on loopback or under a fresh /tmp directory, every client
has a `WAIT` timeout, and every server is closed at teardown.
"""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeAlias

import pytest

from sockserve.core import (
    DatagramRequestHandler,
    ServerLifecycleProtocol,
    SocketServer,
    StreamRequestHandler,
    StreamServer,
)
from sockserve.trio_backend import (
    AsyncDatagramRequestHandler,
    AsyncStreamRequestHandler,
    TrioMixIn,
)
from tests.conftest import WAIT

__all__ = ["WAIT"]

#: Any socket address a family binds or reports.
Address: TypeAlias = object
#: A server class to build: ``factory(address, handler)``.
ServerFactory: TypeAlias = Callable[..., SocketServer[object, object]]
#: The ``serve`` fixture of tests/conftest.py: ``serve(server)`` runs ``serve_forever``.
Serve: TypeAlias = Callable[..., threading.Thread]


class CoreTCPServer(StreamServer[tuple[str, int]]):
    """A TCP server from core alone: the backend joins any sockserve socket server."""

    address_family = socket.AF_INET


def has_ipv6_loopback() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@dataclass(frozen=True)
class Family:
    """One kind of server: where its class lives, how it binds, how clients talk to it."""

    name: str
    module: str
    class_name: str
    stream: bool
    ipv6: bool = False

    def family_class(self) -> type[SocketServer[object, object]]:
        """The family's own server class (skips the test if its package is missing)."""
        module = pytest.importorskip(self.module) if self.module != __name__ else None
        found: type[SocketServer[object, object]] = (
            getattr(module, self.class_name) if module else globals()[self.class_name]
        )
        if self.ipv6:
            if not has_ipv6_loopback():
                pytest.skip("no IPv6 loopback here")
            return type("TCP6Server", (found,), {"address_family": socket.AF_INET6})
        return found

    def trio_class(self) -> type[SocketServer[object, object]]:
        """``class Server(TrioMixIn, FamilyClass)``: the composition the README shows."""
        return type(f"Trio{self.class_name}", (TrioMixIn, self.family_class()), {})

    @property
    def unix(self) -> bool:
        return self.module == "sockserve.unix"

    def bind_address(self, directory: str) -> Address:
        if self.unix:
            return os.path.join(directory, "s.sock")
        return ("::1", 0) if self.ipv6 else ("127.0.0.1", 0)


FAMILIES = (
    Family("tcp", "sockserve.inet", "TCPServer", stream=True),
    Family("tcp6", "sockserve.inet", "TCPServer", stream=True, ipv6=True),
    Family("udp", "sockserve.inet", "UDPServer", stream=False),
    Family("unix-stream", "sockserve.unix", "UnixStreamServer", stream=True),
    Family("unix-datagram", "sockserve.unix", "UnixDatagramServer", stream=False),
    Family("core-tcp", __name__, "CoreTCPServer", stream=True),
)
STREAM_FAMILIES = tuple(f for f in FAMILIES if f.stream)
DATAGRAM_FAMILIES = tuple(f for f in FAMILIES if not f.stream)


@pytest.fixture
def build(sock_dir: str) -> Iterator[Callable[..., SocketServer[object, object]]]:
    """``build(family_or_class, handler, **attributes)``: a bound server, closed at teardown.

    A `Family` is built as ``class (TrioMixIn, FamilyClass)``; keyword
    arguments become class attributes of a subclass (``max_connections=2``).
    """
    built: list[SocketServer[object, object]] = []

    def make(
        kind: Family | type[SocketServer[object, object]],
        handler: Callable[..., object],
        address: Address | None = None,
        **attributes: object,
    ) -> SocketServer[object, object]:
        server_class = kind.trio_class() if isinstance(kind, Family) else kind
        if attributes:
            server_class = type(server_class.__name__, (server_class,), attributes)
        if address is None:
            family = kind if isinstance(kind, Family) else FAMILIES[0]
            address = family.bind_address(sock_dir)
        server = server_class(address, handler)
        built.append(server)
        return server

    yield make
    for server in built:
        server.server_close()


# ---------------------------------------------------------------------------- clients


def connect(server: ServerLifecycleProtocol) -> socket.socket:
    """A client connected to stream ``server``, with a `WAIT` timeout."""
    client = socket.socket(server.address_family, socket.SOCK_STREAM)
    client.settimeout(WAIT)
    try:
        client.connect(server.server_address)  # type: ignore[arg-type]  # a socket address
    except BaseException:
        client.close()
        raise
    return client


@contextlib.contextmanager
def datagram_client(server: ServerLifecycleProtocol, sock_dir: str) -> Iterator[socket.socket]:
    """A datagram client for ``server``; a Unix one binds a path, to be replied to."""
    client = socket.socket(server.address_family, socket.SOCK_DGRAM)
    client.settimeout(WAIT)
    with client:
        if server.address_family == socket.AF_UNIX:
            client.bind(tempfile.mktemp(prefix="c-", dir=sock_dir))
        yield client


def exchange(server: ServerLifecycleProtocol, payload: bytes, sock_dir: str) -> bytes:
    """Send ``payload`` (one line) and return the reply, over the server's own kind of socket."""
    if server.socket.type == socket.SOCK_STREAM:
        with connect(server) as client:
            client.sendall(payload)
            line: bytes = client.makefile("rb").readline()
            return line
    with datagram_client(server, sock_dir) as client:
        client.sendto(payload, server.server_address)  # type: ignore[call-overload]  # a socket address
        return client.recv(65536)


# ---------------------------------------------------------------------------- handlers


class AsyncLineEcho(AsyncStreamRequestHandler):
    """Echoes lines until the client closes."""

    async def handle(self) -> None:
        while line := await self.receive_line():
            await self.send(line)


class AsyncDatagramUpper(AsyncDatagramRequestHandler):
    """Replies with the datagram in upper case."""

    async def handle(self) -> None:
        await self.reply(self.packet.upper())


class SyncLineEcho(StreamRequestHandler):
    """Echoes lines until the client closes, in a worker thread."""

    def handle(self) -> None:
        for line in self.rfile:
            self.wfile.write(line)


class SyncDatagramUpper(DatagramRequestHandler):
    """Replies with the datagram in upper case, in a worker thread."""

    def handle(self) -> None:
        self.wfile.write(self.rfile.read().upper())


def echo_handler(family: Family, style: str) -> type[object]:
    """The echo handler of ``style`` (``"async"`` or ``"sync"``) for ``family``'s requests."""
    if family.stream:
        return AsyncLineEcho if style == "async" else SyncLineEcho
    return AsyncDatagramUpper if style == "async" else SyncDatagramUpper


def expected_echo(family: Family, payload: bytes) -> bytes:
    return payload if family.stream else payload.upper()
