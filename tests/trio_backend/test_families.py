"""Every server family on trio, with both handler styles, run both ways.

The family class binds, reports its address and cleans up as it does without
trio: the backend only serves.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from typing import cast

import pytest
import trio

from sockserve.core import SocketServer
from sockserve.trio_backend import AsyncStreamRequestHandler, TrioMixIn

from .conftest import FAMILIES, WAIT, Family, Serve, echo_handler, exchange, expected_echo

Build = Callable[..., SocketServer[object, object]]
STYLES = ("async", "sync")


@pytest.fixture(params=FAMILIES, ids=[f.name for f in FAMILIES])
def family(request: pytest.FixtureRequest) -> Family:
    chosen: Family = request.param
    return chosen


@pytest.mark.parametrize("style", STYLES)
def test_classic_serve_forever(
    family: Family, style: str, build: Build, serve: Serve, sock_dir: str
) -> None:
    server = build(family, echo_handler(family, style))
    serve(server)
    for payload in (b"one\n", b"two\n"):
        assert exchange(server, payload, sock_dir) == expected_echo(family, payload)


@pytest.mark.parametrize("style", STYLES)
async def test_structured_serve(family: Family, style: str, build: Build, sock_dir: str) -> None:
    server = build(family, echo_handler(family, style))
    async with trio.open_nursery() as nursery:
        address = await nursery.start(cast(TrioMixIn[object, object], server).serve)
        assert address == server.server_address
        reply = await trio.to_thread.run_sync(exchange, server, b"hi\n", sock_dir)
        assert reply == expected_echo(family, b"hi\n")
        nursery.cancel_scope.cancel()


def test_the_family_binds_and_reports_its_address(family: Family, build: Build) -> None:
    server = build(family, echo_handler(family, "async"))
    assert server.server_address == server.socket.getsockname()
    assert server.socket.family == family.family_class().address_family
    if not family.unix:
        assert server.server_address[1] != 0  # type: ignore[index]  # an IP address


@pytest.mark.parametrize("family", [f for f in FAMILIES if f.unix], ids=lambda f: f.name)
def test_a_unix_family_removes_its_socket_file_after_serving(
    family: Family, build: Build, serve: Serve, sock_dir: str
) -> None:
    server = build(family, echo_handler(family, "async"))
    path = cast(str, server.server_address)
    serve(server)
    assert exchange(server, b"x\n", sock_dir)
    server.shutdown()
    assert os.path.exists(path)
    server.server_close()
    assert not os.path.exists(path)


def test_the_listening_socket_gets_its_timeout_back_after_serving(
    build: Build, serve: Serve
) -> None:
    server = build(FAMILIES[0], echo_handler(FAMILIES[0], "async"))
    server.socket.settimeout(3.5)
    serve(server)
    server.shutdown()
    assert server.socket.gettimeout() == 3.5


def test_ipv6_clients_see_their_own_ipv6_address(build: Build, sock_dir: str) -> None:
    (tcp6,) = [f for f in FAMILIES if f.ipv6]
    seen: list[object] = []

    class Who(AsyncStreamRequestHandler):
        async def handle(self) -> None:
            seen.append(self.client_address)
            await self.send(b"ok\n")

    server = cast(TrioMixIn[object, object], build(tcp6, Who))
    assert server.socket.family == socket.AF_INET6
    client = threading.Thread(target=exchange, args=(server, b"?\n", sock_dir), daemon=True)
    client.start()
    server.handle_request()
    client.join(WAIT)
    (address,) = seen
    assert isinstance(address, tuple)
    assert address[0] == "::1"
    assert len(address) == 4
