"""Access control and PROXY headers on every model; HAProxy in front, sending v1 and v2."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sockserve.core import NetworkAccess, ProxyProtocol
from sockserve.inet import TCPServer
from tests.conftest import WAIT, script_server

from .admission import (
    CONCURRENT,
    MODELS,
    Authority,
    ask,
    ask_over_tls,
    build,
    connect,
    wait_for,
)

Serve = Callable[..., threading.Thread]
LOOPBACK = ["127.0.0.1"]


def closed_unanswered(server: TCPServer, line: bytes = b"hi\n") -> bool:
    """Whether the server closes the connection without an answer."""
    try:
        return ask(server.server_address, line) == ""
    except ConnectionResetError:
        return True


@pytest.mark.parametrize("model", MODELS)
def test_access_control_closes_a_refused_client_at_once_and_counts_it(
    model: str, serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    with build(model, access=NetworkAccess(allow=["10.0.0.0/8"])) as server:
        serve(server)
        with caplog.at_level(logging.WARNING, "sockserve.core"):
            assert closed_unanswered(server)
            counts = wait_for(server, lambda c: c.refused == 1)
    assert (counts.accepted, counts.completed, counts.active) == (1, 0, 0)
    if model != "forking":  # a child's log lines are the child's
        assert "access denied: its network is not allowed" in caplog.text


@pytest.mark.parametrize("model", ["sync", "trio"])
def test_an_allowed_client_is_served(model: str, serve: Serve) -> None:
    with build(model, access=NetworkAccess(allow=["127.0.0.0/8"], deny=["127.0.0.2"])) as server:
        serve(server)
        assert ask(server.server_address, b"hi\n").startswith("hi ('127.0.0.1', ")


def test_access_control_applies_to_async_handlers_too(serve: Serve) -> None:
    with build("trio-async", access=NetworkAccess(deny=LOOPBACK)) as server:
        serve(server)
        assert closed_unanswered(server)
        wait_for(server, lambda c: c.refused == 1)


def test_a_dual_stack_servers_ipv4_clients_match_ipv4_networks(serve: Serve) -> None:
    class DualStack(TCPServer):
        dual_stack = True
        access = NetworkAccess(allow=["127.0.0.0/8"])

    from .admission import SaysWho

    try:
        server = DualStack(("::", 0), SaysWho)
    except OSError:
        pytest.skip("no IPv6 here")
    with server:
        serve(server)
        reply = ask(("127.0.0.1", server.server_address[1]), b"hi\n")
        assert reply.startswith("hi ('::ffff:127.0.0.1', ")


def header_v1(source: str, port: int) -> bytes:
    return f"PROXY TCP4 {source} 127.0.0.1 {port} 443\r\n".encode()


@pytest.mark.parametrize("model", [*MODELS, "trio-async"])
def test_a_trusted_proxys_header_gives_the_handler_the_real_address(
    model: str, serve: Serve
) -> None:
    with build(model, proxy_protocol=ProxyProtocol(LOOPBACK)) as server:
        serve(server)
        reply = ask(server.server_address, header_v1("192.0.2.7", 50123) + b"hi\n")
        assert reply == "hi ('192.0.2.7', 50123) None\n"


@pytest.mark.parametrize("model", ["sync", "threading", "trio"])
def test_access_control_judges_the_address_from_the_header(model: str, serve: Serve) -> None:
    proxy = ProxyProtocol(LOOPBACK)
    access = NetworkAccess(allow=["192.0.2.0/24"], deny=["192.0.2.66"])
    with build(model, proxy_protocol=proxy, access=access) as server:
        serve(server)
        assert ask(server.server_address, header_v1("192.0.2.7", 1) + b"in\n").startswith("in ")
        assert closed_unanswered(server, header_v1("192.0.2.66", 1) + b"out\n")
        wait_for(server, lambda c: (c.completed, c.refused) == (1, 1))


@pytest.mark.parametrize("model", ["sync", "pool", "trio"])
def test_a_header_from_an_untrusted_peer_is_refused(model: str, serve: Serve) -> None:
    with build(model, proxy_protocol=ProxyProtocol(["10.0.0.0/8"])) as server:
        serve(server)
        assert closed_unanswered(server, header_v1("192.0.2.7", 1) + b"hi\n")
        wait_for(server, lambda c: c.refused == 1)


@pytest.mark.parametrize("model", ["sync", "threading", "trio"])
def test_a_missing_or_malformed_header_is_refused(model: str, serve: Serve) -> None:
    with build(model, proxy_protocol=ProxyProtocol(LOOPBACK)) as server:
        serve(server)
        assert closed_unanswered(server, b"GET / HTTP/1.1\r\n\r\n")
        assert closed_unanswered(server, b"PROXY TCP4 nonsense\r\nhi\n")
        assert closed_unanswered(server, b"PROXY " + b"9" * 200 + b"\r\n")
        wait_for(server, lambda c: c.refused == 3)


@pytest.mark.parametrize("model", [*CONCURRENT, "trio-async"])
def test_a_slow_header_is_cut_at_its_timeout_and_delays_no_one(model: str, serve: Serve) -> None:
    server = build(model, proxy_protocol=ProxyProtocol(LOOPBACK, timeout=1.0))
    with server, connect(server.server_address) as slow:
        serve(server)
        slow.sendall(b"PROXY TCP4 192.0.2.7")  # and no more
        started = time.monotonic()
        assert ask(server.server_address, header_v1("192.0.2.8", 2) + b"hi\n").startswith("hi ")
        assert time.monotonic() - started < 0.9
        assert slow.recv(16) == b""
        assert 0.9 < time.monotonic() - started < WAIT / 2


# -- HAProxy in front ------------------------------------------------------------

HAPROXY_CONFIG = """
global
    maxconn 64
defaults
    mode tcp
    timeout connect 5s
    timeout client 10s
    timeout server 10s
frontend front
    bind 127.0.0.1:{front}
    default_backend back
backend back
    server app {backend} {send_proxy}
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def haproxy() -> Iterator[Callable[[str, str], int]]:
    """``haproxy(backend, "send-proxy")``: start HAProxy in front of ``backend``; its port."""
    if shutil.which("haproxy") is None:
        pytest.skip("haproxy is not installed (.ci/run installs it)")
    started: list[subprocess.Popen[bytes]] = []
    directory = tempfile.mkdtemp(prefix="haproxy-")

    def start(backend: str, send_proxy: str) -> int:
        front = free_port()
        config = Path(directory, f"{len(started)}.cfg")
        settings = {"front": front, "backend": backend, "send_proxy": send_proxy}
        config.write_text(HAPROXY_CONFIG.format(**settings))
        command = ["haproxy", "-db", "-f", str(config)]
        started.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        deadline = time.monotonic() + WAIT
        while True:  # until it listens
            try:
                socket.create_connection(("127.0.0.1", front), timeout=WAIT).close()
                return front
            except ConnectionRefusedError:
                assert started[-1].poll() is None, started[-1].stderr and started[-1].stderr.read()
                assert time.monotonic() < deadline
                time.sleep(0.02)

    yield start
    for process in started:
        process.terminate()
        try:
            process.wait(WAIT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(WAIT)
        if process.stderr is not None:
            process.stderr.close()
    shutil.rmtree(directory, ignore_errors=True)


@pytest.mark.parametrize("send_proxy", ["send-proxy", "send-proxy-v2"])
@pytest.mark.parametrize("model", ["threading", "pool", "forking", "trio"])
def test_behind_haproxy_the_handler_sees_the_clients_own_address(
    model: str, send_proxy: str, serve: Serve, haproxy: Callable[[str, str], int]
) -> None:
    with build(model, proxy_protocol=ProxyProtocol(LOOPBACK)) as server:
        serve(server)
        front = haproxy(f"127.0.0.1:{server.server_address[1]}", send_proxy)
        for _ in range(3):
            with socket.create_connection(("127.0.0.1", front), timeout=WAIT) as client:
                client.sendall(b"hi\n")
                reply = client.makefile("rb").readline().decode()
                assert reply == f"hi {client.getsockname()!r} None\n"
        # HAProxy's own probe connection above sent a header too: all were admitted.
        assert server.request_counts().refused == 0


def test_behind_haproxy_tls_follows_the_header_on_the_wire(
    serve: Serve, haproxy: Callable[[str, str], int]
) -> None:
    authority = Authority()
    proxy, context = ProxyProtocol(LOOPBACK), authority.server_context()
    with build("threading", proxy_protocol=proxy, ssl_context=context) as server:
        serve(server)
        front = haproxy(f"127.0.0.1:{server.server_address[1]}", "send-proxy-v2")
        reply = ask_over_tls(("127.0.0.1", front), authority.client_context(), b"secret\n")
        assert reply.startswith("secret ('127.0.0.1', ")


def test_behind_haproxy_on_a_unix_socket(serve: Serve, haproxy: Callable[[str, str], int]) -> None:
    from sockserve.mixins import ThreadingMixIn
    from sockserve.unix import UnixStreamServer

    from .admission import SaysWho

    class UnixServer(ThreadingMixIn, UnixStreamServer):
        daemon_threads = True
        proxy_protocol = ProxyProtocol([])  # Unix peers: the socket file decides who connects

    directory = tempfile.mkdtemp(prefix="pp-", dir="/tmp")
    path = os.path.join(directory, "app.sock")
    try:
        with UnixServer(path, SaysWho) as server:
            serve(server)
            front = haproxy(path, "send-proxy-v2")
            with socket.create_connection(("127.0.0.1", front), timeout=WAIT) as client:
                client.sendall(b"hi\n")
                reply = client.makefile("rb").readline().decode()
                assert reply == f"hi {client.getsockname()!r} None\n"
    finally:
        shutil.rmtree(directory, ignore_errors=True)


PREFORK = """
import signal
from sockserve.core import NetworkAccess, ProxyProtocol
from sockserve.mixins import Prefork
from tests.sockserve.admission import PoolServer, SaysWho

class Server(PoolServer):
    proxy_protocol = ProxyProtocol(["127.0.0.1"])
    access = NetworkAccess(deny=["192.0.2.66"])

server = Server(("127.0.0.1", 0), SaysWho)
with Prefork(server, workers=2, drain_timeout=5) as prefork:
    print(server.server_address[1], flush=True)
    prefork.serve_forever()
    print(prefork.request_counts(), flush=True)
"""


def test_prefork_workers_admit_connections_as_every_model_does() -> None:
    with script_server(PREFORK) as (process, port):
        address = ("127.0.0.1", int(port))
        for _ in range(4):
            assert ask(address, header_v1("192.0.2.7", 9) + b"hi\n") == "hi ('192.0.2.7', 9) None\n"
        with contextlib.suppress(ConnectionResetError):
            assert ask(address, header_v1("192.0.2.66", 9) + b"hi\n") == ""
        time.sleep(0.3)  # the workers' counters reach the supervisor every 0.1 s
        process.send_signal(signal.SIGTERM)
        assert process.wait(WAIT) == 0
        assert process.stdout is not None
        final = process.stdout.read()
    assert "accepted=5, active=0, completed=4, failed=0, refused=1, cut=0" in final


def test_a_refusal_after_a_header_is_logged_with_the_real_address(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    proxy, access = ProxyProtocol(LOOPBACK), NetworkAccess(deny=["192.0.2.66"])
    with build("sync", proxy_protocol=proxy, access=access) as server:
        serve(server)
        with caplog.at_level(logging.WARNING, "sockserve.core"):
            assert closed_unanswered(server, header_v1("192.0.2.66", 4321) + b"hi\n")
            wait_for(server, lambda c: c.refused == 1)
    assert "refused the connection from ('192.0.2.66', 4321): access denied" in caplog.text
