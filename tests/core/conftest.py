"""Fixtures for the core's tests: IPv4 servers built from core alone (no sockserve.inet)."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Protocol, TypeVar, overload

import pytest

from sockserve.core import BaseRequestHandler, StreamRequest, StreamServer

Address = tuple[str, int]


class LoopbackStreamServer(StreamServer[Address]):
    """The smallest concrete server core allows: an IPv4 stream server."""

    address_family = socket.AF_INET


class EchoOnce(BaseRequestHandler[StreamRequest, LoopbackStreamServer, Address]):
    def handle(self) -> None:
        self.request.sendall(self.request.recv(1024))


ServerT = TypeVar("ServerT", bound=LoopbackStreamServer)


class ServerFactory(Protocol):
    @overload
    def __call__(self, *, handler: Callable[..., object] = ...) -> LoopbackStreamServer: ...
    @overload
    def __call__(
        self, server_class: type[ServerT], *, handler: Callable[..., object] = ...
    ) -> ServerT: ...


@pytest.fixture
def make_server() -> Iterator[ServerFactory]:
    """Build ``LoopbackStreamServer`` subclasses on 127.0.0.1; close them all at teardown."""
    made: list[LoopbackStreamServer] = []

    def make(
        server_class: type[LoopbackStreamServer] = LoopbackStreamServer,
        *,
        handler: Callable[..., object] = EchoOnce,
    ) -> LoopbackStreamServer:
        server = server_class(("127.0.0.1", 0), handler)
        made.append(server)
        return server

    yield make  # type: ignore[misc]  # the overloads describe what make() returns
    for server in made:
        server.server_close()
