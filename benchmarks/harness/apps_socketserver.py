"""The stdlib's ``socketserver`` and sockserve's drop-in, serving the same handlers.

Each handler is written once, as a function of the handler's files, and bound
to each implementation's base class: the only difference between the two
sides is the module the classes come from, as for an application that
switches.
"""

from __future__ import annotations

import io
import socket
import socketserver as stdlib
from collections.abc import Callable
from typing import IO, Any, Protocol, TypeAlias

from sockserve import servers
from sockserve import socketserver as ours
from sockserve.trio_backend import (
    AsyncDatagramRequestHandler,
    AsyncStreamRequestHandler,
    TrioMixIn,
)

#: Forking servers may run a child per connection of the 256-connection rows
#: (the default cap of 40 would leave most of them waiting out the run).
MAX_CHILDREN = 1024


class Servable(Protocol):
    """What the harness needs of a server once it is built."""

    @property
    def socket(self) -> socket.socket:
        """The listening (or datagram) socket."""

    def serve_forever(self, poll_interval: float = ...) -> None:
        """Handle requests until shut down."""

    def shutdown(self) -> None:
        """Stop `serve_forever` and wait for it to return."""

    def server_close(self) -> None:
        """Close the socket."""


ServerFactory = Callable[[Any, Any], Servable]
#: A handler's ``rfile`` or ``wfile``: typeshed types the stdlib's as ``IO[bytes]``.
BinaryFile: TypeAlias = IO[bytes] | io.BufferedIOBase


def echo_lines(rfile: BinaryFile, wfile: BinaryFile) -> None:
    """Echo lines until the client closes: the persistent-connection handler."""
    for line in rfile:
        wfile.write(line)


def echo_one_line(rfile: BinaryFile, wfile: BinaryFile) -> None:
    """Echo one line; the server then closes the connection."""
    wfile.write(rfile.readline())


def echo_datagram(rfile: BinaryFile, wfile: BinaryFile) -> None:
    """Echo one datagram."""
    wfile.write(rfile.read())


class StdlibEcho(stdlib.StreamRequestHandler):
    """Persistent-connection echo on the stdlib."""

    def handle(self) -> None:  # noqa: D102
        echo_lines(self.rfile, self.wfile)


class StdlibOnce(stdlib.StreamRequestHandler):
    """One-line echo on the stdlib."""

    def handle(self) -> None:  # noqa: D102
        echo_one_line(self.rfile, self.wfile)


class StdlibDatagram(stdlib.DatagramRequestHandler):
    """Datagram echo on the stdlib."""

    def handle(self) -> None:  # noqa: D102
        echo_datagram(self.rfile, self.wfile)


class OursEcho(ours.StreamRequestHandler):
    """Persistent-connection echo on sockserve."""

    def handle(self) -> None:  # noqa: D102
        echo_lines(self.rfile, self.wfile)


class OursOnce(ours.StreamRequestHandler):
    """One-line echo on sockserve."""

    def handle(self) -> None:  # noqa: D102
        echo_one_line(self.rfile, self.wfile)


class OursDatagram(ours.DatagramRequestHandler):
    """Datagram echo on sockserve."""

    def handle(self) -> None:  # noqa: D102
        echo_datagram(self.rfile, self.wfile)


class StdlibForkingTCP(stdlib.ForkingTCPServer):
    """The stdlib's ``ForkingTCPServer`` with room for every connection."""

    max_children = MAX_CHILDREN


class StdlibForkingUDP(stdlib.ForkingUDPServer):
    """The stdlib's ``ForkingUDPServer`` with room for every client."""

    max_children = MAX_CHILDREN


class StdlibForkingUnix(stdlib.ForkingMixIn, stdlib.UnixStreamServer):
    """A forking Unix-stream server from the stdlib's parts (3.11 has none)."""

    max_children = MAX_CHILDREN


class OursForkingTCP(ours.ForkingTCPServer):
    """sockserve's ``ForkingTCPServer`` with room for every connection."""

    max_children = MAX_CHILDREN


class OursForkingUDP(ours.ForkingUDPServer):
    """sockserve's ``ForkingUDPServer`` with room for every client."""

    max_children = MAX_CHILDREN


class OursForkingUnix(ours.ForkingMixIn, ours.UnixStreamServer):
    """A forking Unix-stream server from sockserve's parts."""

    max_children = MAX_CHILDREN


class AsyncEcho(AsyncStreamRequestHandler):
    """Persistent-connection echo on sockserve's trio backend, as a line protocol is written."""

    async def handle(self) -> None:  # noqa: D102
        while line := await self.receive_line():
            await self.send(line)


class AsyncOnce(AsyncStreamRequestHandler):
    """One-line echo on sockserve's trio backend."""

    async def handle(self) -> None:  # noqa: D102
        await self.send(await self.receive_line())


class AsyncDatagram(AsyncDatagramRequestHandler):
    """Datagram echo on sockserve's trio backend."""

    async def handle(self) -> None:  # noqa: D102
        await self.reply(self.packet)


class PoolTCP(servers.ThreadPoolTCPServer):
    """sockserve's pooled TCP server, with a thread for each connection of the 256 rows."""

    pool_size = MAX_CHILDREN


class PoolUDP(servers.ThreadPoolUDPServer):
    """sockserve's pooled UDP server, with its default pool."""


class PoolUnix(servers.ThreadPoolUnixStreamServer):
    """sockserve's pooled Unix-stream server."""

    pool_size = MAX_CHILDREN


class TrioTCP(TrioMixIn, ours.TCPServer):
    """sockserve's ``TCPServer`` served by trio."""


class TrioUDP(TrioMixIn, ours.UDPServer):
    """sockserve's ``UDPServer`` served by trio."""


class TrioUnix(TrioMixIn, ours.UnixStreamServer):
    """sockserve's ``UnixStreamServer`` served by trio."""


class TrioSyncTCP(TrioTCP):
    """Sync handlers on trio, with a worker thread for each connection of the 256 rows."""

    max_threads = MAX_CHILDREN


class TrioSyncUDP(TrioUDP):
    """Sync datagram handlers on trio (one datagram at a time, as ``UDPServer``)."""


class TrioSyncUnix(TrioUnix):
    """Sync handlers on trio over a Unix stream socket."""

    max_threads = MAX_CHILDREN


#: (model, transport) -> server class, per implementation.
SERVERS: dict[str, dict[tuple[str, str], ServerFactory]] = {
    "stdlib": {
        ("sync", "tcp"): stdlib.TCPServer,
        ("threading", "tcp"): stdlib.ThreadingTCPServer,
        ("forking", "tcp"): StdlibForkingTCP,
        ("sync", "udp"): stdlib.UDPServer,
        ("threading", "udp"): stdlib.ThreadingUDPServer,
        ("forking", "udp"): StdlibForkingUDP,
        ("sync", "unix"): stdlib.UnixStreamServer,
        ("threading", "unix"): stdlib.ThreadingUnixStreamServer,
        ("forking", "unix"): StdlibForkingUnix,
    },
    "sockserve": {
        ("sync", "tcp"): ours.TCPServer,
        ("threading", "tcp"): ours.ThreadingTCPServer,
        ("forking", "tcp"): OursForkingTCP,
        ("sync", "udp"): ours.UDPServer,
        ("threading", "udp"): ours.ThreadingUDPServer,
        ("forking", "udp"): OursForkingUDP,
        ("sync", "unix"): ours.UnixStreamServer,
        ("threading", "unix"): ours.ThreadingUnixStreamServer,
        ("forking", "unix"): OursForkingUnix,
        ("pool", "tcp"): PoolTCP,
        ("pool", "udp"): PoolUDP,
        ("pool", "unix"): PoolUnix,
        ("trio", "tcp"): TrioTCP,
        ("trio", "udp"): TrioUDP,
        ("trio", "unix"): TrioUnix,
        ("trio-sync", "tcp"): TrioSyncTCP,
        ("trio-sync", "udp"): TrioSyncUDP,
        ("trio-sync", "unix"): TrioSyncUnix,
    },
}

#: app -> handler class, per implementation (sockserve's trio model: its async handlers).
HANDLERS: dict[str, dict[str, type]] = {
    "stdlib": {"echo": StdlibEcho, "once": StdlibOnce, "udp": StdlibDatagram},
    "sockserve": {"echo": OursEcho, "once": OursOnce, "udp": OursDatagram},
    "sockserve-trio": {"echo": AsyncEcho, "once": AsyncOnce, "udp": AsyncDatagram},
}


def build(impl: str, model: str, app: str, transport: str, address: object) -> Servable:
    """Bind the ``impl`` server of ``model`` for ``app`` at ``address``.

    Raises:
        KeyError: That implementation has no such server or handler.
    """
    handlers = HANDLERS["sockserve-trio" if (impl, model) == ("sockserve", "trio") else impl]
    return SERVERS[impl][model, transport](address, handlers[app])
