"""``http.server``'s handlers on every model, through `sockserve.servers`' HTTP servers."""

from __future__ import annotations

import functools
import http.server
import socket
import urllib.request
from pathlib import Path

import pytest

from sockserve.core.testing import StartServing
from sockserve.servers import (
    ForkingHTTPServer,
    HTTPServer,
    ThreadingHTTPServer,
    ThreadPoolHTTPServer,
)
from sockserve.trio_backend import TrioMixIn
from tests.conftest import WAIT


class TrioHTTPServer(TrioMixIn, HTTPServer):
    pass


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


MODELS = [HTTPServer, ThreadingHTTPServer, ThreadPoolHTTPServer, ForkingHTTPServer, TrioHTTPServer]


@pytest.mark.parametrize("model", MODELS, ids=lambda cls: cls.__name__)
def test_simple_http_request_handler_serves_a_directory_on_every_model(
    model: type[HTTPServer], tmp_path: Path, serve_in_background: StartServing
) -> None:
    (tmp_path / "hello.txt").write_text("hello from a directory\n")
    handler = functools.partial(Quiet, directory=str(tmp_path))
    server = model(("127.0.0.1", 0), handler)
    served = serve_in_background(server, raise_handler_errors=True)
    url = f"http://127.0.0.1:{server.server_address[1]}/hello.txt"
    for _ in range(2):
        with urllib.request.urlopen(url, timeout=WAIT) as response:
            assert response.read() == b"hello from a directory\n"
    assert served.thread.is_alive()


def test_server_name_and_port_are_what_http_server_sets() -> None:
    with (
        HTTPServer(("127.0.0.1", 0), Quiet) as ours,
        http.server.HTTPServer(("127.0.0.1", 0), Quiet) as theirs,
    ):
        assert ours.server_name == theirs.server_name == socket.getfqdn("127.0.0.1")
        assert ours.server_port == ours.server_address[1]
        assert ours.allow_reuse_address
        assert theirs.allow_reuse_address


def test_a_server_on_an_adopted_socket_records_its_name_too() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    # from_socket takes handlers typed for sockserve's servers (typing issue 14 widens it).
    with HTTPServer.from_socket(sock, Quiet) as server:  # type: ignore[arg-type]
        assert server.server_port == sock.getsockname()[1]
        assert server.server_name == socket.getfqdn("127.0.0.1")
