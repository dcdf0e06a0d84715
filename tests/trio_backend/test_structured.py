"""The structured way: ``await nursery.start(server.serve)``, cancellation, and the drain.

Cancellation is tried at each point: before the server listens, while it
waits for a connection, while a handler runs, and while a drain waits.
"""

from __future__ import annotations

import socket
import sys
import threading
from collections.abc import Callable
from typing import cast

import pytest
import trio
import trio.testing

from sockserve.core import DrainResult, SocketServer, StreamRequestHandler
from sockserve.trio_backend import AsyncStreamRequestHandler, TrioMixIn

from .conftest import WAIT, CoreTCPServer

Build = Callable[..., SocketServer[object, object]]


class TrioTCP(TrioMixIn[socket.socket, tuple[str, int]], CoreTCPServer):
    """The server of these tests: core's TCP family, served by trio."""


class Gate:
    """What the handlers of a test share: who started, who finished, what to wait for."""

    def __init__(self) -> None:
        self.release = trio.Event()
        self.started: list[str] = []
        self.finished: list[str] = []
        self.cancelled: list[str] = []
        self.errors: list[BaseException] = []


class Waiting(AsyncStreamRequestHandler[TrioTCP, tuple[str, int]]):
    """Reads its name, waits for the gate, then answers: ``done <name>``."""

    gate: Gate

    async def handle(self) -> None:
        name = (await self.receive_line()).decode().strip()
        self.gate.started.append(name)
        try:
            await self.gate.release.wait()
        except trio.Cancelled:
            self.gate.cancelled.append(name)
            raise
        await self.send(f"done {name}\n".encode())

    async def finish(self) -> None:
        self.gate.finished.append(self.client_address[0])


def handler_for(gate: Gate, base: type[Waiting] = Waiting) -> type[Waiting]:
    return type("GatedHandler", (base,), {"gate": gate})


class GatedServer(TrioTCP):
    """Records what ``handle_error`` saw in its gate, instead of printing it."""

    def __init__(self, gate: Gate, handler: type[object]) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.gate = gate

    def handle_error(self, request: socket.socket, client_address: tuple[str, int]) -> None:
        self.gate.errors.append(cast(BaseException, sys.exc_info()[1]))


def server_with(gate: Gate, handler: type[object] | None = None) -> GatedServer:
    return GatedServer(gate, handler or handler_for(gate))


async def open_client(address: tuple[str, int], name: str) -> trio.SocketStream:
    client = await trio.open_tcp_stream(*address)
    await client.send_all(f"{name}\n".encode())
    return client


async def read_all(client: trio.SocketStream) -> bytes:
    """Read until the server closes, then close the client."""
    data = b""
    async with client:
        while chunk := await client.receive_some():
            data += chunk
    return data


async def test_start_returns_the_bound_address_once_listening() -> None:
    with TrioTCP(("127.0.0.1", 0), Waiting) as server:
        async with trio.open_nursery() as nursery:
            address = await nursery.start(server.serve)
            assert address == server.server_address
            assert address[1] != 0
            # Listening already: a connection succeeds with no further wait.
            with socket.create_connection(address, timeout=WAIT):
                pass
            nursery.cancel_scope.cancel()


async def test_cancelling_the_scope_stops_serving_and_restores_the_socket() -> None:
    with TrioTCP(("127.0.0.1", 0), Waiting) as server:
        with trio.CancelScope() as scope:
            async with trio.open_nursery() as nursery:
                await nursery.start(server.serve)
                await trio.testing.wait_all_tasks_blocked()  # waiting for a connection
                scope.cancel()
        assert scope.cancelled_caught
        assert server.socket.gettimeout() is None  # blocking again, as before serving
        assert not server._is_serving()


async def test_cancelled_before_listening_leaves_the_server_ready_to_serve() -> None:
    gate = Gate()
    with server_with(gate) as server:
        with trio.CancelScope() as scope:
            scope.cancel()
            async with trio.open_nursery() as nursery:
                await nursery.start(server.serve)
        assert not server._is_serving()
        gate.release.set()
        async with trio.open_nursery() as nursery:
            address = await nursery.start(server.serve)
            client = await open_client(address, "later")
            assert await read_all(client) == b"done later\n"
            nursery.cancel_scope.cancel()


async def test_cancelling_mid_handler_cancels_it_without_reporting_an_error() -> None:
    gate = Gate()
    with server_with(gate) as server:
        async with trio.open_nursery() as nursery:
            address = await nursery.start(server.serve)
            client = await open_client(address, "busy")
            await trio.testing.wait_all_tasks_blocked()
            assert gate.started == ["busy"]
            nursery.cancel_scope.cancel()
        assert gate.cancelled == ["busy"]
        assert gate.finished == ["127.0.0.1"]  # finish() ran
        assert gate.errors == []
        assert await read_all(client) == b""  # the server closed the connection


async def test_a_drain_lets_quick_requests_finish_and_cuts_the_rest(
    autojump_clock: trio.testing.MockClock,
) -> None:
    gate = Gate()

    class QuickOrStuck(handler_for(gate)):  # type: ignore[misc]
        async def handle(self) -> None:
            name = (await self.receive_line()).decode().strip()
            self.gate.started.append(name)
            if name == "stuck":
                await trio.sleep_forever()
            await trio.sleep(1)
            await self.send(f"done {name}\n".encode())

    with server_with(gate, QuickOrStuck) as server:
        async with trio.open_nursery() as nursery:
            address = await nursery.start(server.serve)
            quick = await open_client(address, "quick")
            stuck = await open_client(address, "stuck")
            await trio.testing.wait_all_tasks_blocked()
            started = trio.current_time()
            result = await server.adrain(5)
            assert trio.current_time() - started == pytest.approx(5)
        assert result == DrainResult(completed=1, cut=1)
        assert await read_all(quick) == b"done quick\n"
        assert await read_all(stuck) == b""
        assert gate.errors == []


async def test_a_drain_ends_as_soon_as_the_last_request_does(
    autojump_clock: trio.testing.MockClock,
) -> None:
    gate = Gate()
    with server_with(gate) as server:
        async with trio.open_nursery() as nursery:
            address = await nursery.start(server.serve)
            client = await open_client(address, "a")
            await trio.testing.wait_all_tasks_blocked()
            started = trio.current_time()
            gate.release.set()
            assert await server.adrain(60) == DrainResult(completed=1, cut=0)
            assert trio.current_time() - started < 1
        assert await read_all(client) == b"done a\n"


async def test_a_drain_stops_accepting_at_once() -> None:
    gate = Gate()
    with server_with(gate) as server:
        async with trio.open_nursery() as nursery:
            address = await nursery.start(server.serve)
            first = await open_client(address, "first")
            await trio.testing.wait_all_tasks_blocked()
            server.request_drain(WAIT)
            await trio.testing.wait_all_tasks_blocked()
            # The listening socket stays open (the server is not closed), but
            # nobody accepts: this connection waits in the backlog, unserved.
            late = await open_client(address, "late")
            await trio.testing.wait_all_tasks_blocked()
            gate.release.set()
        assert gate.started == ["first"]
        assert await read_all(first) == b"done first\n"
    with pytest.raises(trio.BrokenResourceError):  # reset when the server closed
        await read_all(late)


async def test_cancelling_during_a_drain_cuts_everything_at_once() -> None:
    gate = Gate()
    with server_with(gate) as server:
        with trio.move_on_after(0.2):
            async with trio.open_nursery() as nursery:
                address = await nursery.start(server.serve)
                client = await open_client(address, "slow")
                await trio.testing.wait_all_tasks_blocked()
                await server.adrain(WAIT * 10)
        assert gate.cancelled == ["slow"]
        assert await read_all(client) == b""
        assert not server._is_serving()


async def test_a_drain_with_nothing_in_flight_returns_at_once() -> None:
    with TrioTCP(("127.0.0.1", 0), Waiting) as server:
        async with trio.open_nursery() as nursery:
            await nursery.start(server.serve)
            with trio.fail_after(WAIT):
                assert await server.adrain(WAIT * 10) == DrainResult(0, 0)


async def test_a_drain_unblocks_a_sync_handler_blocked_in_recv() -> None:
    blocked = threading.Event()
    returned: list[bytes] = []

    class BlockedInRecv(StreamRequestHandler):
        def handle(self) -> None:
            blocked.set()
            returned.append(self.rfile.readline())  # the client never sends a line

    with TrioTCP(("127.0.0.1", 0), BlockedInRecv) as server:
        async with trio.open_nursery() as nursery:
            address = await nursery.start(server.serve)
            client = await trio.open_tcp_stream(*address)
            await trio.to_thread.run_sync(blocked.wait, WAIT)
            with trio.fail_after(WAIT):
                assert await server.adrain(0.1) == DrainResult(completed=0, cut=1)
        assert returned == [b""]  # it read end of file and returned
        assert await read_all(client) == b""


async def test_adrain_from_the_servers_own_handler_is_refused() -> None:
    refusals: list[str] = []

    class SelfDrain(AsyncStreamRequestHandler[TrioTCP, tuple[str, int]]):
        async def handle(self) -> None:
            try:
                await self.server.adrain(1)
            except RuntimeError as exc:
                refusals.append(str(exc))
            self.server.request_drain(1)  # the way that works from here
            await self.send(b"bye\n")

    with TrioTCP(("127.0.0.1", 0), SelfDrain) as server:
        async with trio.open_nursery() as nursery:
            address = await nursery.start(server.serve)
            client = await trio.open_tcp_stream(*address)
            with trio.fail_after(WAIT):
                assert await read_all(client) == b"bye\n"
        # serve() returned by itself: the nursery could close.
    assert refusals
    assert "request_drain" in refusals[0]


async def test_adrain_without_a_serving_run_is_refused() -> None:
    with (
        TrioTCP(("127.0.0.1", 0), Waiting) as server,
        pytest.raises(RuntimeError, match="serve"),
    ):
        await server.adrain(1)


@pytest.mark.parametrize(("timeout", "error"), [(-1, ValueError), ("5", TypeError)])
async def test_a_bad_drain_timeout_names_itself(timeout: object, error: type[Exception]) -> None:
    with TrioTCP(("127.0.0.1", 0), Waiting) as server:
        with pytest.raises(error, match=repr(timeout)):
            await server.adrain(timeout)  # type: ignore[arg-type]
        with pytest.raises(error, match=repr(timeout)):
            server.request_drain(timeout)  # type: ignore[arg-type]


async def test_serving_twice_at_once_is_refused() -> None:
    with TrioTCP(("127.0.0.1", 0), Waiting) as server:
        async with trio.open_nursery() as nursery:
            await nursery.start(server.serve)
            with pytest.raises(RuntimeError, match="already serving"):
                await server.serve()
            nursery.cancel_scope.cancel()


async def test_a_server_serves_again_after_a_drain() -> None:
    gate = Gate()
    gate.release.set()
    with server_with(gate) as server:
        for name in ("one", "two"):
            async with trio.open_nursery() as nursery:
                address = await nursery.start(server.serve)
                client = await open_client(address, name)
                assert await read_all(client) == f"done {name}\n".encode()
                await server.adrain(1)
    assert gate.started == ["one", "two"]
