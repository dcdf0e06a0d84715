"""``http.server``'s sync handlers, unchanged, on the trio backend, driven by real HTTP clients.

``SimpleHTTPRequestHandler`` serves a directory from trio worker threads;
curl (when installed: CI installs it) and ``http.client`` fetch from it,
with keep-alive and several clients at once.
"""

from __future__ import annotations

import functools
import http.client
import http.server
import shutil
import socket
import subprocess
import threading
from pathlib import Path

import pytest
import trio

from sockserve.trio_backend import TrioMixIn

from .conftest import WAIT, CoreTCPServer, Serve

Address = tuple[str, int]


class TrioHTTP(TrioMixIn[socket.socket, Address], CoreTCPServer):
    """A TCP server on trio, with what http.server's handlers read off their server."""


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "hello.txt").write_bytes(b"hello from trio\n")
    (tmp_path / "big.bin").write_bytes(bytes(range(256)) * 4096)  # 1 MiB
    return tmp_path


@pytest.fixture
def http_server(site: Path, serve: Serve) -> TrioHTTP:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    server = TrioHTTP(("127.0.0.1", 0), handler)
    serve(server)
    return server


@pytest.fixture(autouse=True)
def quiet_handler_logs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http.server.SimpleHTTPRequestHandler, "log_message", lambda *args: None)


def get(server: TrioHTTP, paths: list[str]) -> list[tuple[int, bytes]]:
    """GET each path over one keep-alive connection."""
    host, port = server.server_address
    connection = http.client.HTTPConnection(host, port, timeout=WAIT)
    try:
        replies = []
        for path in paths:
            connection.request("GET", path)
            response = connection.getresponse()
            replies.append((response.status, response.read()))
        return replies
    finally:
        connection.close()


def test_simple_http_request_handler_serves_a_directory_over_keep_alive(
    http_server: TrioHTTP, site: Path
) -> None:
    replies = get(http_server, ["/hello.txt", "/big.bin", "/missing", "/hello.txt"])
    assert replies[0] == (200, b"hello from trio\n")
    assert replies[1] == (200, (site / "big.bin").read_bytes())
    assert replies[2][0] == 404
    assert replies[3] == (200, b"hello from trio\n")


def test_many_clients_at_once_are_each_served_whole(http_server: TrioHTTP, site: Path) -> None:
    results: list[list[tuple[int, bytes]]] = []
    lock = threading.Lock()

    def client() -> None:
        got = get(http_server, ["/big.bin", "/hello.txt"] * 3)
        with lock:
            results.append(got)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    big = (site / "big.bin").read_bytes()
    assert len(results) == 12
    for got in results:
        assert got == [(200, big), (200, b"hello from trio\n")] * 3


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_fetches_a_file(http_server: TrioHTTP) -> None:
    host, port = http_server.server_address
    done = subprocess.run(
        [
            "curl",
            "--silent",
            "--show-error",
            "--fail",
            "--max-time",
            str(WAIT),
            f"http://{host}:{port}/hello.txt",
            f"http://{host}:{port}/hello.txt",
        ],
        capture_output=True,
        check=True,
        timeout=WAIT * 2,
    )
    assert done.stdout == b"hello from trio\n" * 2


async def test_an_http_handler_in_a_structured_trio_program(site: Path) -> None:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    with TrioHTTP(("127.0.0.1", 0), handler) as server:
        async with trio.open_nursery() as nursery:
            await nursery.start(server.serve)
            replies = await trio.to_thread.run_sync(get, server, ["/hello.txt"])
            assert replies == [(200, b"hello from trio\n")]
            assert (await server.adrain(1)).cut == 0
