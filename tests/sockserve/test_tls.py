"""TLS on every model: the handshake in the request's worker, under one deadline; real clients."""

from __future__ import annotations

import contextlib
import http.server
import logging
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import trio

from sockserve.core import DatagramRequestHandler
from sockserve.inet import UDPServer
from sockserve.trio_backend import AsyncStreamRequestHandler, TrioMixIn
from tests.conftest import WAIT

from .admission import (
    CONCURRENT,
    MODELS,
    Authority,
    SaysWho,
    SyncServer,
    ask_over_tls,
    build,
    connect,
    wait_for,
)

Serve = Callable[..., threading.Thread]


@pytest.fixture(scope="module")
def authority() -> Authority:
    return Authority()


@contextlib.asynccontextmanager
async def trio_tls_client(
    authority: Authority, handler: type[AsyncStreamRequestHandler]
) -> AsyncIterator[trio.SSLStream[trio.SocketStream]]:
    """A trio TLS client of a trio-backend server with ``handler``, served for the block."""
    server = build("trio", handler, ssl_context=authority.server_context())
    assert isinstance(server, TrioMixIn)
    with server:
        async with trio.open_nursery() as nursery:
            address = await nursery.start(server.serve)
            tcp = await trio.open_tcp_stream(*address)
            tls = trio.SSLStream(tcp, authority.client_context(), server_hostname="127.0.0.1")
            async with tls:
                yield tls
            nursery.cancel_scope.cancel()


@pytest.mark.parametrize("model", [*MODELS, "trio-async"])
def test_a_stream_handler_works_unchanged_over_tls(
    model: str, authority: Authority, serve: Serve
) -> None:
    with build(model, ssl_context=authority.server_context()) as server:
        serve(server)
        for _ in range(3):
            reply = ask_over_tls(server.server_address, authority.client_context(), b"hi\n")
            assert reply.startswith("hi ('127.0.0.1', ")
            assert reply.endswith(" None\n")  # no client certificate asked for


@pytest.mark.parametrize("model", ["sync", "pool", "trio"])
def test_a_required_client_certificate_is_checked_and_readable(
    model: str, authority: Authority, serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    context = authority.server_context(require_client_certificate=True)
    with build(model, ssl_context=context) as server:
        serve(server)
        with_certificate = authority.client_context("alice@example.org")
        assert ask_over_tls(server.server_address, with_certificate, b"hi\n").endswith(
            " alice@example.org\n"
        )
        with (
            caplog.at_level(logging.WARNING, "sockserve.core"),
            pytest.raises((ssl.SSLError, ConnectionError, EOFError)),
        ):
            ask_over_tls(server.server_address, authority.client_context(), b"hi\n")
        wait_for(server, lambda counts: counts.refused >= 1)
    assert "TLS handshake failed" in caplog.text


@pytest.mark.parametrize("model", [*CONCURRENT, "trio-async"])
def test_a_stalled_handshake_delays_no_other_client_and_is_cut_at_its_deadline(
    model: str, authority: Authority, serve: Serve
) -> None:
    with build(model, ssl_context=authority.server_context(), handshake_timeout=1.0) as server:
        serve(server)
        with connect(server.server_address) as stalled:
            stalled.sendall(b"\x16\x03\x01")  # the start of a ClientHello, and no more
            started = time.monotonic()
            reply = ask_over_tls(server.server_address, authority.client_context(), b"hi\n")
            assert reply.startswith("hi ")
            assert time.monotonic() - started < 0.9  # served while the other one stalls
            assert stalled.recv(16) == b""  # closed at the handshake's deadline
            assert 0.9 < time.monotonic() - started < WAIT / 2


def test_the_sync_server_bounds_a_stalled_handshake_then_serves_on(
    authority: Authority, serve: Serve
) -> None:
    with build("sync", ssl_context=authority.server_context(), handshake_timeout=0.3) as server:
        serve(server)
        with connect(server.server_address) as stalled:
            assert stalled.recv(16) == b""  # sent nothing at all: cut at 0.3 s
        reply = ask_over_tls(server.server_address, authority.client_context(), b"next\n")
        assert reply.startswith("next ")
        counts = wait_for(server, lambda counts: counts.completed >= 1)
        assert (counts.refused, counts.completed) == (1, 1)


async def test_an_async_handler_reads_lines_and_large_replies_over_tls(
    authority: Authority,
) -> None:
    big = b"z" * 300_000  # more than one TLS record, more than a socket buffer

    class Big(AsyncStreamRequestHandler):
        async def handle(self) -> None:
            while line := await self.receive_line():
                await self.send(line.upper() + big)

    async with trio_tls_client(authority, Big) as tls:
        for word in (b"one\n", b"two\n"):
            await tls.send_all(word)
            expected = word.upper() + big
            received = b""
            while len(received) < len(expected):
                received += await tls.receive_some()
            assert received == expected


def test_tls_on_a_datagram_server_is_a_clear_error(authority: Authority) -> None:
    errors: list[BaseException | None] = []

    class Quiet(UDPServer):
        def handle_error(self, request: object, client_address: object) -> None:
            errors.append(sys.exc_info()[1])

    with Quiet(("127.0.0.1", 0), DatagramRequestHandler) as server:
        server.ssl_context = authority.server_context()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
            client.sendto(b"x", server.server_address)
            server.handle_request()
    assert "ssl_context is for stream servers" in str(errors[0])


def test_http_server_handlers_over_tls_with_curl(
    authority: Authority, serve: Serve, tmp_path: Path
) -> None:
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed (.ci/run installs it)")
    (tmp_path / "index.txt").write_text("served over TLS\n")
    ca = tmp_path / "ca.pem"
    authority.ca.cert_pem.write_to_path(str(ca))

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object) -> None:
            super().__init__(*args, directory=str(tmp_path))  # type: ignore[arg-type]

        def log_message(self, format: str, *args: object) -> None:
            pass

    with build("threading", Quiet, ssl_context=authority.server_context()) as server:
        serve(server)
        url = f"https://127.0.0.1:{server.server_address[1]}/index.txt"
        done = subprocess.run(
            ["curl", "--silent", "--show-error", "--cacert", str(ca), "--max-time", "10", url],
            capture_output=True,
            text=True,
            timeout=WAIT * 2,
        )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "served over TLS\n"


def test_openssl_s_client_is_served(authority: Authority, serve: Serve, tmp_path: Path) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed (.ci/run installs it)")
    ca = tmp_path / "ca.pem"
    authority.ca.cert_pem.write_to_path(str(ca))
    with build("pool", ssl_context=authority.server_context()) as server:
        serve(server)
        command = [
            "openssl", "s_client", "-quiet", "-verify_return_error", "-CAfile", str(ca),
            "-verify_ip", "127.0.0.1", "-connect", f"127.0.0.1:{server.server_address[1]}",
        ]  # fmt: skip
        done = subprocess.run(command, input=b"from openssl\n", capture_output=True, timeout=WAIT)
    assert done.stdout.startswith(b"from openssl ('127.0.0.1', "), done.stderr


def test_a_client_that_resets_before_its_handshake_is_refused_not_reported(
    authority: Authority, serve: Serve
) -> None:
    errors: list[object] = []

    class Quiet(SyncServer):
        ssl_context = authority.server_context()

        def handle_error(self, request: object, client_address: object) -> None:
            errors.append(sys.exc_info()[1])

    with Quiet(("127.0.0.1", 0), SaysWho) as server:
        with connect(server.server_address) as client:
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        server.handle_request()  # the reset connection
        assert errors == []
        assert server.request_counts().refused == 1


async def test_send_eof_over_tls_keeps_receiving_through_tls(authority: Authority) -> None:
    heard: list[bytes] = []

    class HalfCloses(AsyncStreamRequestHandler):
        async def handle(self) -> None:
            await self.receive_line()
            await self.send(b"bye\n")
            await self.stream.send_eof()
            heard.append(await self.receive_line())

    async with trio_tls_client(authority, HalfCloses) as tls:
        await tls.send_all(b"hi\n")
        assert await tls.receive_some() == b"bye\n"
        await tls.send_all(b"still here\n")  # after the server's FIN, through TLS
        with trio.fail_after(WAIT):
            while not heard:
                await trio.sleep(0.01)
    assert heard == [b"still here\n"]
