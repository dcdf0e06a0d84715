"""The stdlib's ``socketserver`` and sockserve's servers, serving the same handlers.

Each handler is written once, as a function of the handler's files, and bound
to each implementation's base class: the only difference between the two
sides is the module the classes come from, as for an application that
switches. A server process imports only its own implementation
(`harness.apps_stdlib`, `harness.apps_sockserve`, `harness.apps_sockserve_trio`):
what a process has loaded is what each forked child copies.
"""

from __future__ import annotations

import importlib
import io
import socket
from collections.abc import Callable
from types import ModuleType
from typing import IO, Any, Protocol, TypeAlias

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


#: Iterations of `burn`: about 1 ms of pure-Python work on this machine.
BURN_ROUNDS = 15000


def burn() -> int:
    """Pure-Python work that holds the GIL: the same for every implementation."""
    total = 0
    for i in range(BURN_ROUNDS):
        total += i * i
    return total


def echo_lines_after_work(rfile: BinaryFile, wfile: BinaryFile) -> None:
    """Echo lines, each after `burn`: the CPU-bound handler."""
    for line in rfile:
        burn()
        wfile.write(line)


def echo_datagram(rfile: BinaryFile, wfile: BinaryFile) -> None:
    """Echo one datagram."""
    wfile.write(rfile.read())


def handlers_of(module: ModuleType) -> dict[str, type]:
    """The benchmark's handlers (app -> class), on ``module``'s handler classes."""

    class Echo(module.StreamRequestHandler):  # type: ignore[name-defined, misc]
        """Persistent-connection echo."""

        def handle(self) -> None:
            echo_lines(self.rfile, self.wfile)

    class Once(module.StreamRequestHandler):  # type: ignore[name-defined, misc]
        """One-line echo."""

        def handle(self) -> None:
            echo_one_line(self.rfile, self.wfile)

    class CPU(module.StreamRequestHandler):  # type: ignore[name-defined, misc]
        """The CPU-bound echo."""

        def handle(self) -> None:
            echo_lines_after_work(self.rfile, self.wfile)

    class Datagram(module.DatagramRequestHandler):  # type: ignore[name-defined, misc]
        """Datagram echo."""

        def handle(self) -> None:
            echo_datagram(self.rfile, self.wfile)

    return {"echo": Echo, "once": Once, "udp": Datagram, "cpu": CPU}


def with_room(server_class: type, attribute: str) -> type:
    """``server_class`` with `MAX_CHILDREN` as its ``attribute`` (``max_children``, ...)."""
    return type(server_class.__name__, (server_class,), {attribute: MAX_CHILDREN})


def socketserver_servers(module: ModuleType) -> dict[tuple[str, str], ServerFactory]:
    """(model, transport) -> server class, for the models both implementations share."""
    # 3.11 has no ForkingUnixStreamServer: made of the module's parts.
    forking_unix = type(
        "ForkingUnixStreamServer", (module.ForkingMixIn, module.UnixStreamServer), {}
    )
    return {
        ("sync", "tcp"): module.TCPServer,
        ("threading", "tcp"): module.ThreadingTCPServer,
        ("forking", "tcp"): with_room(module.ForkingTCPServer, "max_children"),
        ("sync", "udp"): module.UDPServer,
        ("threading", "udp"): module.ThreadingUDPServer,
        ("forking", "udp"): with_room(module.ForkingUDPServer, "max_children"),
        ("sync", "unix"): module.UnixStreamServer,
        ("threading", "unix"): module.ThreadingUnixStreamServer,
        ("forking", "unix"): with_room(forking_unix, "max_children"),
    }


#: Which module serves an (implementation, model): each has SERVERS and handler().
_APPS = {"stdlib": "harness.apps_stdlib", "sockserve": "harness.apps_sockserve"}
_TRIO_MODELS = ("trio", "trio-sync")


def build(impl: str, model: str, app: str, transport: str, address: object) -> Servable:
    """Bind the ``impl`` server of ``model`` for ``app`` at ``address``.

    Imports that implementation only.

    Raises:
        KeyError: That implementation has no such server or handler.
    """
    name = "harness.apps_sockserve_trio" if model in _TRIO_MODELS else _APPS[impl]
    apps = importlib.import_module(name)
    factory: ServerFactory = apps.SERVERS[model, transport]
    return factory(address, apps.handler(model, app))
