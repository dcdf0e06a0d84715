"""Fixtures for the mix-in tests: servers built from core and mixins alone (no sockserve.inet)."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest

from sockserve.core import StreamRequest, StreamServer
from sockserve.mixins import ForkingMixIn, ThreadingMixIn

Address = tuple[str, int]
WAIT = 10.0


class LoopbackServer(StreamServer[Address]):
    address_family = socket.AF_INET


class ThreadingServer(ThreadingMixIn[StreamRequest, Address], LoopbackServer):
    pass


class ForkingServer(ForkingMixIn[StreamRequest, Address], LoopbackServer):
    pass


ServerT = TypeVar("ServerT", bound=LoopbackServer)


@pytest.fixture
def build() -> Iterator[Callable[[type[ServerT], Callable[..., object]], ServerT]]:
    """``build(ServerClass, Handler)`` on 127.0.0.1:0; every server is closed at teardown."""
    built: list[LoopbackServer] = []

    def make(server_class: type[ServerT], handler: Callable[..., object]) -> ServerT:
        server = server_class(("127.0.0.1", 0), handler)
        built.append(server)
        return server

    yield make
    for server in built:
        server.server_close()


def connect(server: LoopbackServer) -> socket.socket:
    return socket.create_connection(server.server_address, timeout=WAIT)
