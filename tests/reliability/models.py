"""Every concurrency model, built the same way, so that each scenario runs on each.

A scenario names a `Behaviour` (what its handler does) and the server
settings it needs; `build` makes a TCP server on 127.0.0.1 of the model with
a handler of that behaviour (an async one for ``trio-async``). Adding a
model is one line in `MODELS`.

Importable by a child process too (``python -c``, from the project root), for
the scenarios that change process-wide limits.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sockserve.core import RequestCounts, StreamRequestHandler
from sockserve.core.testing import Servable
from sockserve.inet import TCPServer
from sockserve.mixins import ForkingMixIn, Prefork, ThreadingMixIn, ThreadPoolMixIn
from sockserve.servers import ThreadPoolTCPServer
from sockserve.trio_backend import AsyncStreamRequestHandler, TrioMixIn

#: The longest a line may be, for the handlers here (a hostile line is cut at it).
MAX_LINE = 4096


class LineEcho(StreamRequestHandler):
    """Echo lines until the client stops.

    ``quit`` ends the request, ``boom`` raises a ValueError, ``exit`` a
    SystemExit, ``interrupt`` a KeyboardInterrupt, ``die`` kills the process,
    ``nap`` sleeps 0.2 s, ``hang`` 60 s, ``big`` asks for 1 MiB.
    """

    def handle(self) -> None:
        while line := self.rfile.readline(MAX_LINE):
            if not reply_to(line, self.wfile.write):
                return


class AsyncLineEcho(AsyncStreamRequestHandler):
    """`LineEcho` for the trio backend's async handlers."""

    async def handle(self) -> None:
        while line := await self.receive_line(MAX_LINE):
            replies: list[bytes] = []
            go_on = reply_to(line, replies.append)
            for reply in replies:
                await self.send(reply)
            if not go_on:
                return


def reply_to(line: bytes, write: Callable[[bytes], object]) -> bool:
    """Answer one line of the echo protocol; return whether to read another."""
    command = line.strip()
    if command == b"quit":
        return False
    if command == b"boom":
        raise ValueError("a handler fault, on purpose")
    if command == b"exit":
        raise SystemExit(3)
    if command == b"interrupt":
        raise KeyboardInterrupt
    if command == b"die":  # for the models whose handlers run in child processes only
        os.kill(os.getpid(), signal.SIGKILL)
    if command == b"nap":
        time.sleep(0.2)
    if command == b"hang":  # stuck in Python, not in I/O: only a process can be ended
        time.sleep(60)
    write(b"x" * (1 << 20) + b"\n" if command == b"big" else line)
    return True


class ChildOfItsOwn(ForkingMixIn):
    """A forked child that closes what it inherited from the test process, first.

    Test-only: here clients and server share one process, so a child forked
    for one connection inherits the client ends of the connections open at
    that moment, its own included, and would keep them open (a client's
    reset or hang-up would never reach its server). A server in a process of
    its own has no client sockets to inherit.
    """

    def finish_request(self, request: Any, client_address: Any) -> None:
        keep = {request.fileno(), self.fileno()}
        for fd in map(int, os.listdir("/proc/self/fd")):
            if fd > 2 and fd not in keep:
                with contextlib.suppress(OSError):
                    os.close(fd)
        super().finish_request(request, client_address)


@dataclass(frozen=True)
class Model:
    """A concurrency model: how to build a server of it, and what it bounds."""

    name: str
    build_server: Callable[[type[Any], dict[str, object]], Servable]
    #: Whether a fixed number of workers serves every connection.
    bounded: bool = False
    is_async: bool = False
    #: Whether its handlers run in child processes (whose counters are not the server's).
    in_children: bool = False


def server_class(*mixins: type[Any]) -> Callable[[type[Any], dict[str, object]], Servable]:
    """A builder of ``class (*mixins, TCPServer)`` with the settings as class attributes."""

    def build(handler: type[Any], settings: dict[str, object]) -> Servable:
        cls = type("Server", (*mixins, TCPServer), dict(settings))
        server: Servable = cls(("127.0.0.1", 0), handler)
        return server

    return build


def preforked(handler: type[Any], settings: dict[str, object]) -> Servable:
    """Two worker processes, each a pool of the settings' size, on one listening socket."""
    cls = type("Server", (ThreadPoolTCPServer,), dict(settings))
    return Prefork(cls(("127.0.0.1", 0), handler), workers=2, drain_timeout=5)


MODELS = [
    Model("sync", server_class(), bounded=True),
    Model("threading", server_class(ThreadingMixIn)),
    Model("forking", server_class(ChildOfItsOwn), in_children=True),
    Model("pool", server_class(ThreadPoolMixIn), bounded=True),
    Model("prefork", preforked, bounded=True, in_children=True),
    Model("trio-sync", server_class(TrioMixIn)),
    Model("trio-async", server_class(TrioMixIn), is_async=True),
]
BY_NAME = {model.name: model for model in MODELS}


def build(model: Model, **settings: object) -> Servable:
    """A server of ``model`` on 127.0.0.1:0 with an echo handler; ``settings`` as attributes."""
    handler = AsyncLineEcho if model.is_async else LineEcho
    return model.build_server(handler, settings)


def address_of(server: Servable) -> tuple[str, int]:
    """Where ``server`` (or a ``Prefork``'s server) listens."""
    inner: Any = getattr(server, "server", server)
    host, port = inner.server_address[:2]
    return host, port


def counts_of(server: Servable) -> RequestCounts:
    """The live counters of ``server``, summed over a ``Prefork``'s workers."""
    counts: RequestCounts = server.request_counts()  # type: ignore[attr-defined]
    return counts


def balanced(counts: RequestCounts) -> bool:
    """Nothing lost: every request accepted is active or ended one way."""
    ended = counts.completed + counts.failed + counts.refused + counts.cut
    return counts.accepted == counts.active + ended


def ask(address: tuple[str, int], line: bytes = b"hello\n", timeout: float = 10.0) -> bytes:
    """One well-behaved client: send ``line``, read the reply line, hang up."""
    with socket.create_connection(address, timeout=timeout) as client:
        client.sendall(line)
        return client.makefile("rb").readline()
