"""Unix servers on sockets made elsewhere: the socket file is not theirs to remove."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import pytest

from sockserve.core import BaseRequestHandler, StreamRequest
from sockserve.unix import UnixAddress, UnixStreamServer
from tests.conftest import WAIT

Serve = Callable[..., threading.Thread]


class Hello(BaseRequestHandler[StreamRequest, UnixStreamServer, UnixAddress]):
    def handle(self) -> None:
        self.request.sendall(b"hello")


def test_an_adopted_unix_socket_is_served_and_its_file_left_in_place(
    sock_dir: str, serve: Serve
) -> None:
    path = os.path.join(sock_dir, "adopted.sock")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(path)
    with UnixStreamServer.from_socket(sock, Hello) as server:
        assert server.server_address == path
        serve(server)
        with socket.socket(socket.AF_UNIX) as client:
            client.settimeout(WAIT)
            client.connect(path)
            assert client.recv(16) == b"hello"
    assert os.path.exists(path)  # whoever made the file removes it (systemd does)


def test_an_inet_socket_is_not_a_unix_one() -> None:
    with socket.create_server(("127.0.0.1", 0)) as tcp, pytest.raises(ValueError, match="AF_UNIX"):
        UnixStreamServer.from_socket(tcp, Hello)


def test_systemd_socket_activation_of_a_unix_socket(sock_dir: str) -> None:
    if shutil.which("systemd-socket-activate") is None:
        pytest.skip("systemd-socket-activate is not installed (.ci/run installs systemd)")
    path = os.path.join(sock_dir, "activated.sock")
    script = (
        "from sockserve.core import BaseRequestHandler\n"
        "from sockserve.unix import UnixAddress, UnixStreamServer\n"
        "class Hello(BaseRequestHandler):\n"
        "    def handle(self):\n"
        "        self.request.sendall(b'activated ' + self.server.server_address.encode())\n"
        "with UnixStreamServer.from_systemd(Hello) as server:\n"
        "    server.handle_request()\n"
    )
    command = ["systemd-socket-activate", f"--listen={path}", sys.executable, "-c", script]
    process = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + WAIT
        while not os.path.exists(path):
            assert time.monotonic() < deadline
            time.sleep(0.02)
        with socket.socket(socket.AF_UNIX) as client:
            client.settimeout(WAIT)
            client.connect(path)
            assert client.recv(200) == b"activated " + path.encode()
        assert process.wait(WAIT) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(WAIT)
