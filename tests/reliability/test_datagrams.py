"""Hostile datagrams: empty, oversized, a flood. Documented truncation, never a crash.

A datagram longer than ``max_packet_size`` (8192, as the stdlib) is cut to
it: the rest is discarded by the kernel, and the handler sees the first
8192 bytes. An empty datagram is a request like any other. A flood waits in
the socket's receive buffer (the kernel drops what does not fit): no model
holds more datagrams in memory than it handles at once.
"""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest

from sockserve.core import DatagramRequestHandler
from sockserve.core.testing import serving
from sockserve.inet import UDPServer
from sockserve.mixins import ForkingMixIn, ThreadingMixIn, ThreadPoolMixIn
from sockserve.trio_backend import AsyncDatagramRequestHandler, TrioMixIn

from .conftest import WAIT
from .models import counts_of


class Echo(DatagramRequestHandler):
    def handle(self) -> None:
        self.wfile.write(self.rfile.read())


class AsyncEcho(AsyncDatagramRequestHandler):
    async def handle(self) -> None:
        await self.reply(self.packet)


MODELS: dict[str, tuple[tuple[type[Any], ...], type[Any]]] = {
    "sync": ((), Echo),
    "threading": ((ThreadingMixIn,), Echo),
    "forking": ((ForkingMixIn,), Echo),
    "pool": ((ThreadPoolMixIn,), Echo),
    "trio-sync": ((TrioMixIn,), Echo),
    "trio-async": ((TrioMixIn,), AsyncEcho),
}
#: The most datagrams handled at once, where a model bounds it.
LIMIT = 4


def build(name: str) -> Any:
    mixins, handler = MODELS[name]
    cls = type("Server", (*mixins, UDPServer), {"max_connections": LIMIT, "pool_size": LIMIT})
    return cls(("127.0.0.1", 0), handler)


def exchange(client: socket.socket, address: tuple[str, int], data: bytes) -> bytes:
    client.sendto(data, address)
    return client.recv(65536)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_empty_oversized_and_a_flood_of_datagrams(name: str) -> None:
    server = build(name)
    with (
        serving(server, drain_timeout=2.0),
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client,
    ):
        client.settimeout(WAIT)
        address = server.server_address
        assert exchange(client, address, b"") == b""
        big = bytes(range(256)) * 250  # 64,000 bytes
        assert exchange(client, address, big) == big[: UDPServer.max_packet_size]
        most_at_once = 0
        for n in range(5000):  # as fast as the client can
            client.sendto(b"%d" % n, address)
            if n % 100 == 0:
                most_at_once = max(most_at_once, counts_of(server).active)
        assert most_at_once <= LIMIT  # max_connections holds the rest in the socket's buffer
        client.settimeout(0.2)
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:  # the replies to the flood, as many as survived
            try:
                client.recv(100)
            except TimeoutError:
                break
        client.settimeout(WAIT)
        assert exchange(client, address, b"still there?") == b"still there?"
