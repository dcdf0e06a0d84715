"""Fixtures for the mix-in tests: servers built from core and mixins alone (no sockserve.inet)."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest

import sockserve.core
from sockserve.core import DatagramRequest, StreamRequest, StreamServer
from sockserve.mixins import ForkingMixIn, ThreadingMixIn, ThreadPoolMixIn

Address = tuple[str, int]
WAIT = 10.0


class LoopbackServer(StreamServer[Address]):
    address_family = socket.AF_INET


class ThreadingServer(ThreadingMixIn[StreamRequest, Address], LoopbackServer):
    pass


class ForkingServer(ForkingMixIn[StreamRequest, Address], LoopbackServer):
    pass


class PoolServer(ThreadPoolMixIn[StreamRequest, Address], LoopbackServer):
    pass


class DatagramServer(sockserve.core.DatagramServer[Address]):
    address_family = socket.AF_INET


class PoolDatagramServer(ThreadPoolMixIn[DatagramRequest, Address], DatagramServer):
    pass


ServerT = TypeVar("ServerT", bound=LoopbackServer | DatagramServer)


@pytest.fixture
def build() -> Iterator[Callable[[type[ServerT], Callable[..., object]], ServerT]]:
    """``build(ServerClass, Handler)`` on 127.0.0.1:0; every server is closed at teardown."""
    built: list[LoopbackServer | DatagramServer] = []

    def make(server_class: type[ServerT], handler: Callable[..., object]) -> ServerT:
        server = server_class(("127.0.0.1", 0), handler)
        built.append(server)
        return server

    yield make
    for server in built:
        server.server_close()


def connect(server: LoopbackServer) -> socket.socket:
    return socket.create_connection(server.server_address, timeout=WAIT)
