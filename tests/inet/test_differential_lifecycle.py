"""serve_forever and shutdown: the same blocking, the same flag quirks, the socket left open."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from tests.conftest import WAIT

if TYPE_CHECKING:
    from tests.inet.conftest import Client, Flavour, HandlerFactory, MakeServer, Serve

#: How many times the gated tests run serve_forever on one server.
ROUNDS = 2

#: A poll interval far longer than any wait below: only the shutdown flag ends these loops.
SLOW_POLL = 5.0
#: How long a call must keep blocking to count as "blocks".
BLOCKING = 0.2
#: How soon a call must return to count as "at once" (well under SLOW_POLL).
AT_ONCE = 1.0


def timed_serve_forever(server: Any, client: Client) -> float:
    """Run ``serve_forever(SLOW_POLL)`` in a thread; return how long it took to return."""
    started = time.monotonic()
    client.start(server.serve_forever, SLOW_POLL).result()
    return time.monotonic() - started


def test_shutdown_before_serve_forever_makes_it_return_at_once(
    flavour: Flavour, make_server: MakeServer, client: Client, echo_handler: HandlerFactory
) -> None:
    server = make_server(flavour.TCPServer, echo_handler(flavour))
    stopper = client.start(server.shutdown)
    if flavour.name == "stdlib":
        # The stdlib's shutdown() waits for a loop to run: forever, if none does.
        assert stopper.running_after(BLOCKING), "shutdown() returned before serve_forever() ran"
    else:  # a deliberate fix: nothing is serving, so there is nothing to wait for
        assert not stopper.running_after(AT_ONCE), "shutdown() of an idle server blocked"
    assert timed_serve_forever(server, client) < AT_ONCE  # both: the request is kept
    stopper.result()


def test_second_shutdown_returns_at_once_and_stops_the_next_loop(
    flavour: Flavour, make_server: MakeServer, client: Client, echo_handler: HandlerFactory
) -> None:
    server = make_server(flavour.TCPServer, echo_handler(flavour))
    loop = client.start(server.serve_forever, 0.01)
    client.start(server.shutdown).result()
    loop.result()
    second = client.start(server.shutdown)
    assert not second.running_after(AT_ONCE), "a second shutdown() blocked"
    second.result()
    assert timed_serve_forever(server, client) < AT_ONCE, "the flag left set was not honoured"
    loop = client.start(server.serve_forever, 0.01)
    assert loop.running_after(BLOCKING), "the flag was not reset by the loop it stopped"
    client.start(server.shutdown).result()
    loop.result()


def test_shutdown_does_not_close_the_socket(
    flavour: Flavour,
    make_server: MakeServer,
    client: Client,
    serve: Serve,
    echo_handler: HandlerFactory,
    echo_lines: tuple[bytes, ...],
    echo_replies: list[bytes],
) -> None:
    server = make_server(flavour.TCPServer, echo_handler(flavour))
    serve(server)
    client.start(server.shutdown).result()
    assert server.socket.fileno() != -1
    conversation = client.start(client.converse, server.server_address, echo_lines)
    server.handle_request()
    assert conversation.result() == echo_replies


def gated_handler(flavour: Flavour) -> type[Any]:
    """A handler that sets ``server.entered``, then waits for ``server.gate``."""

    def handle(self: Any) -> None:
        self.server.entered.set()
        assert self.server.gate.wait(WAIT)

    return type("Gated", (flavour.BaseRequestHandler,), {"handle": handle})


def test_serve_forever_runs_again_and_shutdown_waits_for_it(
    flavour: Flavour, make_server: MakeServer, client: Client, serve: Serve
) -> None:
    server = make_server(flavour.TCPServer, gated_handler(flavour))
    for _ in range(ROUNDS):
        server.entered, server.gate = threading.Event(), threading.Event()
        serve(server)
        reply = client.start(client.exchange, server.server_address, b"")
        assert server.entered.wait(WAIT)
        stopper = client.start(server.shutdown)
        assert stopper.running_after(BLOCKING), "shutdown() returned while serve_forever ran"
        server.gate.set()
        stopper.result()
        assert reply.result() == b""


def test_private_shutdown_flag_set_by_a_handler_ends_the_loop(
    flavour: Flavour, make_server: MakeServer, client: Client
) -> None:
    """Third-party handlers stop a server without waiting through the name-mangled flag."""

    def handle(self: Any) -> None:
        self.server._BaseServer__shutdown_request = True

    server = make_server(
        flavour.TCPServer, type("Stop", (flavour.BaseRequestHandler,), {"handle": handle})
    )
    loop = client.start(server.serve_forever, SLOW_POLL)
    assert client.exchange(server.server_address, b"") == b""
    assert not loop.running_after(AT_ONCE)
    assert server._BaseServer__shutdown_request is False
    assert server._BaseServer__is_shut_down.is_set()
