"""sockserve's trio backend serving the benchmark's handlers: async ones, or the sync ones."""

from __future__ import annotations

from harness.apps_socketserver import MAX_CHILDREN, ServerFactory, handlers_of
from sockserve import socketserver as ours
from sockserve.trio_backend import (
    AsyncDatagramRequestHandler,
    AsyncStreamRequestHandler,
    TrioMixIn,
)


class AsyncEcho(AsyncStreamRequestHandler):
    """Persistent-connection echo, as a line protocol is written."""

    async def handle(self) -> None:  # noqa: D102
        while line := await self.receive_line():
            await self.send(line)


class AsyncOnce(AsyncStreamRequestHandler):
    """One-line echo."""

    async def handle(self) -> None:  # noqa: D102
        await self.send(await self.receive_line())


class AsyncDatagram(AsyncDatagramRequestHandler):
    """Datagram echo."""

    async def handle(self) -> None:  # noqa: D102
        await self.reply(self.packet)


class TrioTCP(TrioMixIn, ours.TCPServer):
    """sockserve's ``TCPServer`` served by trio."""


class TrioUDP(TrioMixIn, ours.UDPServer):
    """sockserve's ``UDPServer`` served by trio."""


class TrioUnix(TrioMixIn, ours.UnixStreamServer):
    """sockserve's ``UnixStreamServer`` served by trio."""


class _ThreadPerConnection:
    """Sync handlers on trio, with a worker thread for each connection of the 256 rows."""

    max_threads = MAX_CHILDREN


_ASYNC = {"echo": AsyncEcho, "once": AsyncOnce, "udp": AsyncDatagram}
_SYNC = handlers_of(ours)


def handler(model: str, app: str) -> type:
    """The ``trio`` model's async handler for ``app``, or the ``trio-sync`` one's sync handler."""
    return (_ASYNC if model == "trio" else _SYNC)[app]


#: (model, transport) -> server class.
SERVERS: dict[tuple[str, str], ServerFactory] = {}
for _transport, _server in (("tcp", TrioTCP), ("udp", TrioUDP), ("unix", TrioUnix)):
    SERVERS["trio", _transport] = _server
    SERVERS["trio-sync", _transport] = type(_server.__name__, (_ThreadPerConnection, _server), {})
