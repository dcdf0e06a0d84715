"""Clients that reset mid-request: the stdlib's traceback each, or one rate-limited line."""

from __future__ import annotations

import logging
import socket
import struct
import threading
import time
from collections.abc import Callable

import pytest

from sockserve.core import BaseRequestHandler, StreamRequest

from .conftest import WAIT, Address, PoolServer, ThreadingServer

Serve = Callable[..., threading.Thread]
CLIENTS = 30


class ReadsTwice(BaseRequestHandler[StreamRequest, ThreadingServer, Address]):
    def handle(self) -> None:
        if self.request.recv(16) == b"polite":
            self.request.sendall(b"served")
            return
        self.request.recv(16)  # the client resets here: ConnectionResetError


def reset_mid_request(address: Address) -> None:
    client = socket.create_connection(address, timeout=WAIT)
    client.sendall(b"rude")
    time.sleep(0.05)  # the handler has read, and waits for more
    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    client.close()  # RST


def polite(address: Address) -> bytes:
    with socket.create_connection(address, timeout=WAIT) as client:
        client.sendall(b"polite")
        return client.recv(16)


def ended(server: ThreadingServer, count: int) -> None:
    deadline = time.monotonic() + WAIT
    while server.request_counts().failed < count:
        assert time.monotonic() < deadline, server.request_counts()
        time.sleep(0.01)


@pytest.mark.parametrize("model", [ThreadingServer, PoolServer], ids=["threading", "pool"])
def test_quiet_disconnects_turns_a_traceback_storm_into_a_line_or_two(
    model: type[ThreadingServer],
    serve: Serve,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    class Quiet(model):  # type: ignore[valid-type, misc]
        quiet_disconnects = True

    server = Quiet(("127.0.0.1", 0), ReadsTwice)
    serve(server)
    with caplog.at_level(logging.INFO, "sockserve.core"):
        for _ in range(CLIENTS):
            reset_mid_request(server.server_address)
        ended(server, CLIENTS)
    assert polite(server.server_address) == b"served"
    lines = [r for r in caplog.records if "went away: ConnectionResetError" in r.getMessage()]
    assert 1 <= len(lines) <= 3  # about 1.5 s of resets: a line a second at most
    assert "Traceback" not in capsys.readouterr().err
    server.server_close()


def test_by_default_each_one_gets_the_stdlibs_report(
    serve: Serve, capsys: pytest.CaptureFixture[str]
) -> None:
    server = ThreadingServer(("127.0.0.1", 0), ReadsTwice)
    serve(server)
    for _ in range(5):
        reset_mid_request(server.server_address)
    ended(server, 5)
    assert polite(server.server_address) == b"served"
    assert capsys.readouterr().err.count("Exception occurred during processing of request") == 5
    server.server_close()
