"""``sockserve.servers``: the ready-made pooled servers, one per family."""

from __future__ import annotations

import os
import socket
import tempfile
import threading
from collections.abc import Callable

import pytest

from sockserve.core import DatagramRequestHandler, StreamRequestHandler
from sockserve.servers import (
    ThreadPoolTCPServer,
    ThreadPoolUDPServer,
    ThreadPoolUnixDatagramServer,
    ThreadPoolUnixStreamServer,
)

WAIT = 10.0
Serve = Callable[..., threading.Thread]


class StreamThread(StreamRequestHandler):
    def handle(self) -> None:
        self.wfile.write(f"{threading.current_thread().name}\n".encode())


class DatagramThread(DatagramRequestHandler):
    def handle(self) -> None:
        self.wfile.write(threading.current_thread().name.encode())


def test_pooled_tcp_and_unix_stream_servers_serve_on_their_pool(
    serve: Serve, sock_dir: str
) -> None:
    for server in (
        ThreadPoolTCPServer(("127.0.0.1", 0), StreamThread),
        ThreadPoolUnixStreamServer(os.path.join(sock_dir, "s.sock"), StreamThread),
    ):
        with server:
            serve(server)
            names = set()
            for _ in range(40):
                with socket.socket(server.address_family, socket.SOCK_STREAM) as client:
                    client.settimeout(WAIT)
                    client.connect(server.server_address)
                    names.add(client.makefile("rb").readline().decode().strip())
            assert names <= {f"{type(server).__name__}-pool-{n}" for n in range(1, 33)}
            server.shutdown()


@pytest.mark.parametrize("kind", ["udp", "unix"])
def test_pooled_datagram_servers_serve_on_their_pool(
    kind: str, serve: Serve, sock_dir: str
) -> None:
    if kind == "udp":
        server: ThreadPoolUDPServer | ThreadPoolUnixDatagramServer = ThreadPoolUDPServer(
            ("127.0.0.1", 0), DatagramThread
        )
    else:
        server = ThreadPoolUnixDatagramServer(os.path.join(sock_dir, "d.sock"), DatagramThread)
    with server, socket.socket(server.address_family, socket.SOCK_DGRAM) as client:
        serve(server)
        client.settimeout(WAIT)
        if kind == "unix":
            client.bind(tempfile.mktemp(dir=sock_dir))
        client.sendto(b"hello", server.server_address)
        assert client.recv(64).decode().startswith(f"{type(server).__name__}-pool-")
        server.shutdown()
