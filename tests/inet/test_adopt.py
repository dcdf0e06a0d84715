"""Servers on sockets made elsewhere: passed in, by descriptor, and from systemd's launcher."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from sockserve.core import BaseRequestHandler, DatagramRequestHandler, StreamRequest
from sockserve.inet import InetAddress, TCPServer, UDPServer
from tests.conftest import WAIT

Serve = Callable[..., threading.Thread]


class Hello(BaseRequestHandler[StreamRequest, TCPServer, InetAddress]):
    def handle(self) -> None:
        self.request.sendall(b"hello")


class Echo(DatagramRequestHandler):
    def handle(self) -> None:
        self.wfile.write(self.rfile.read())


def hello_from(address: InetAddress) -> bytes:
    with socket.create_connection(address[:2], timeout=WAIT) as client:
        return client.recv(16)


@pytest.mark.parametrize("listening", [True, False])
def test_a_bound_socket_is_served_listening_or_not(listening: bool, serve: Serve) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    if listening:
        sock.listen(7)
    with TCPServer.from_socket(sock, Hello) as server:
        assert server.socket is sock
        assert server.server_address == sock.getsockname()
        serve(server)
        assert hello_from(server.server_address) == b"hello"
    assert sock.fileno() == -1  # the server owned it, and closed it


def test_an_ipv6_socket_makes_an_ipv6_server(serve: Serve) -> None:
    try:
        sock = socket.create_server(("::1", 0), family=socket.AF_INET6)
    except OSError:
        pytest.skip("no IPv6 loopback here")
    with TCPServer.from_socket(sock, Hello) as server:
        assert server.address_family == socket.AF_INET6
        serve(server)
        assert hello_from(server.server_address) == b"hello"


def test_a_descriptor_is_served() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as original:
        original.bind(("127.0.0.1", 0))
        fd = os.dup(original.fileno())
    with (
        UDPServer.from_fd(fd, Echo) as server,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as c,
    ):
        assert server.socket.fileno() == fd
        c.settimeout(WAIT)
        c.sendto(b"by fd", server.server_address)
        server.handle_request()
        assert c.recv(16) == b"by fd"


def test_a_socket_of_the_wrong_kind_is_a_clear_error() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as datagram:
        datagram.bind(("127.0.0.1", 0))
        with pytest.raises(ValueError, match="SOCK_STREAM sockets, not this AF_INET SOCK_DGRAM"):
            TCPServer.from_socket(datagram, Hello)
    with socket.socket() as unbound, pytest.raises(ValueError, match="not bound"):
        TCPServer.from_socket(unbound, Hello)
    with pytest.raises(TypeError, match=r"adopts a socket\.socket, got 3"):
        TCPServer.from_socket(3, Hello)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="descriptor number, got '3'"):
        TCPServer.from_fd("3", Hello)  # type: ignore[arg-type]


def test_from_systemd_outside_socket_activation_is_a_clear_error() -> None:
    script = (
        "from sockserve.core import BaseRequestHandler\n"
        "from sockserve.inet import TCPServer\n"
        "try:\n"
        "    TCPServer.from_systemd(BaseRequestHandler)\n"
        "except RuntimeError as exc:\n"
        "    print(exc)\n"
    )
    command = [sys.executable, "-c", script]
    done = subprocess.run(command, capture_output=True, text=True, timeout=WAIT)
    assert "LISTEN_PID and LISTEN_FDS are not set" in done.stdout


ACTIVATED = """
import os
from sockserve.core import BaseRequestHandler, DatagramRequestHandler, activated_sockets
from sockserve.inet import TCPServer, UDPServer

class Who(BaseRequestHandler):
    def handle(self):
        left = sorted(activated_sockets())
        self.request.sendall(f"{{os.getpid()}} {{self.server.socket.fileno()}} {{left}}".encode())

class Echo(DatagramRequestHandler):
    def handle(self):
        self.wfile.write(self.rfile.read())

if {datagram}:
    server = UDPServer.from_systemd(Echo)
else:
    server = TCPServer.from_systemd(Who, name="web")
with server:
    assert "LISTEN_FDS" not in os.environ  # taken: not for our children
    server.handle_request()
"""


def free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def launcher() -> Iterator[Callable[..., subprocess.Popen[str]]]:
    if shutil.which("systemd-socket-activate") is None:
        pytest.skip("systemd-socket-activate is not installed (.ci/run installs systemd)")
    started: list[subprocess.Popen[str]] = []

    def launch(*args: str, datagram: bool = False) -> subprocess.Popen[str]:
        script = ACTIVATED.format(datagram=datagram)
        command = ["systemd-socket-activate", *args, sys.executable, "-c", script]
        pipe = subprocess.PIPE
        process = subprocess.Popen(command, stdout=pipe, stderr=pipe, text=True)
        started.append(process)
        return process

    yield launch
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(WAIT)
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()


def connect_when_listening(port: int) -> socket.socket:
    deadline = time.monotonic() + WAIT
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=WAIT)
        except ConnectionRefusedError:
            assert time.monotonic() < deadline
            time.sleep(0.02)


def test_systemd_socket_activation_picks_the_socket_by_name(
    launcher: Callable[..., subprocess.Popen[str]],
) -> None:
    web, other = free_port(socket.SOCK_STREAM), free_port(socket.SOCK_STREAM)
    listen = [f"--listen=127.0.0.1:{other}", f"--listen=127.0.0.1:{web}"]
    process = launcher(*listen, "--fdname=admin:web")
    with connect_when_listening(web) as client:
        pid, fd, left = client.recv(200).decode().split(" ", 2)
    assert process.wait(WAIT) == 0, process.stderr.read() if process.stderr else ""
    assert int(pid) == process.pid  # the launcher execs the service in place
    assert fd == "4"  # the second descriptor systemd passed: the one named "web"
    assert left == "['admin']"


def test_systemd_socket_activation_of_a_datagram_socket(
    launcher: Callable[..., subprocess.Popen[str]],
) -> None:
    port = free_port(socket.SOCK_DGRAM)
    process = launcher("--datagram", f"--listen=127.0.0.1:{port}", datagram=True)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        client.settimeout(WAIT)
        time.sleep(0.2)  # the launcher is listening (nothing refuses a datagram)
        client.sendto(b"activated", ("127.0.0.1", port))
        assert client.recv(16) == b"activated"
    assert process.wait(WAIT) == 0


def test_a_failed_adoption_leaves_the_descriptor_to_its_owner() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as datagram:
        datagram.bind(("127.0.0.1", 0))
        with pytest.raises(ValueError, match="SOCK_DGRAM"):
            TCPServer.from_fd(datagram.fileno(), Hello)
        assert datagram.getsockname()[1] > 0  # still open: not closed by the failed attempt


NON_SOCKETS = """
import os, socket
from sockserve.core import BaseRequestHandler, activated_sockets
from sockserve.inet import TCPServer, UDPServer

read_end, write_end = os.pipe()  # systemd's store may pass descriptors that are no sockets
listener = socket.create_server(("127.0.0.1", 0))
os.dup2(read_end, 3)
os.dup2(listener.fileno(), 4)
os.environ.update(LISTEN_PID=str(os.getpid()), LISTEN_FDS="2", LISTEN_FDNAMES="store:web")
try:
    UDPServer.from_systemd(BaseRequestHandler, name="web")
except ValueError as exc:
    print("wrong kind:", exc)
print(sorted(activated_sockets()))  # still there for the right server
with TCPServer.from_systemd(BaseRequestHandler, name="web") as server:
    print(server.socket.fileno(), sorted(activated_sockets()))
"""


def test_activation_skips_descriptors_that_are_not_sockets_and_keeps_unadopted_ones() -> None:
    done = subprocess.run(
        [sys.executable, "-c", NON_SOCKETS], capture_output=True, text=True, timeout=WAIT
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("wrong kind: UDPServer serves AF_INET SOCK_DGRAM")
    assert lines[1:] == ["['web']", "4 []"]
