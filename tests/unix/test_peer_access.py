"""Access control by the peer's uid and gid (SO_PEERCRED) on Unix stream servers."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable

import pytest

from sockserve.core import BaseRequestHandler, StreamRequest
from sockserve.unix import PeerAccess, UnixAddress, UnixStreamServer, peer_credentials
from tests.conftest import WAIT

Serve = Callable[..., threading.Thread]

pytestmark = pytest.mark.skipif(not hasattr(socket, "SO_PEERCRED"), reason="Linux only")


class Hello(BaseRequestHandler[StreamRequest, UnixStreamServer, UnixAddress]):
    def handle(self) -> None:
        self.request.sendall(b"hello")


def hello_from(path: str) -> bytes:
    with socket.socket(socket.AF_UNIX) as client:
        client.settimeout(WAIT)
        client.connect(path)
        return client.recv(16)


@pytest.mark.parametrize(
    ("access", "expected"),
    [
        (PeerAccess(uids=[os.getuid()]), b"hello"),
        (PeerAccess(gids=[os.getgid()]), b"hello"),
        (PeerAccess(uids=[os.getuid() + 1], gids=[os.getgid() + 1]), b""),
    ],
)
def test_peers_are_let_in_by_uid_or_gid(
    access: PeerAccess, expected: bytes, sock_dir: str, serve: Serve
) -> None:
    path = os.path.join(sock_dir, "s")
    with UnixStreamServer(path, Hello) as server:
        server.access = access
        serve(server)
        assert hello_from(path) == expected
        deadline = time.monotonic() + WAIT
        while sum(server.request_counts()[2:]) < 1:  # ended: completed, failed, refused or cut
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert server.request_counts().refused == (0 if expected else 1)


def test_the_credentials_are_the_kernels() -> None:
    left, right = socket.socketpair(socket.AF_UNIX)
    with left, right:
        assert peer_credentials(left) == (os.getpid(), os.getuid(), os.getgid())


def test_a_policy_that_lets_nobody_in_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="uids or gids"):
        PeerAccess()
    with pytest.raises(TypeError, match="ints"):
        PeerAccess(uids=["root"])  # type: ignore[list-item]
