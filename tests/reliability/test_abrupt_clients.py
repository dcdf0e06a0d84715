"""Clients that reset, half-close, leave before their reply, or flood: every model keeps serving.

With ``quiet_disconnects`` (on in every scenario here, as in ``sockserve``'s
command) a client that goes away costs no traceback; the counters still
account for every connection.
"""

from __future__ import annotations

import concurrent.futures
import socket

import pytest

from .conftest import WAIT, RunServer, connect, reset
from .models import ask

#: Clients per abrupt kind; enough that a traceback each would be a storm.
CLIENTS = 30


def test_resets_mid_request(run_server: RunServer, capfd: pytest.CaptureFixture[str]) -> None:
    with run_server() as run:
        for _ in range(CLIENTS):
            client = connect(run.address)
            client.sendall(b"half a li")  # no newline: the handler is mid-readline
            reset(client)
        run.assert_serves()
        run.settle(accepted_at_least=CLIENTS + 1)
    assert "Traceback" not in capfd.readouterr().err


def test_half_close_still_gets_its_reply(run_server: RunServer) -> None:
    with run_server() as run:
        for _ in range(CLIENTS):
            with connect(run.address) as client:
                client.sendall(b"hello\n")
                client.shutdown(socket.SHUT_WR)  # done sending; still reading
                reply = client.makefile("rb").read()
                assert reply == b"hello\n"  # the reply, then end of file
        counts = run.settle(accepted_at_least=CLIENTS)
        assert counts.failed == 0
        run.assert_serves()


def test_clients_gone_before_a_large_reply(
    run_server: RunServer, capfd: pytest.CaptureFixture[str]
) -> None:
    with run_server() as run:
        for _ in range(CLIENTS):
            client = connect(run.address)
            client.sendall(b"big\n")  # asks for 1 MiB, then leaves without reading
            reset(client)
        run.assert_serves()  # no SIGPIPE death: the process is still here, serving
        run.settle(accepted_at_least=CLIENTS + 1)
    assert "Traceback" not in capfd.readouterr().err


def test_a_flood_of_connections_is_served_in_full(run_server: RunServer) -> None:
    flood = 300
    with (
        run_server() as run,
        concurrent.futures.ThreadPoolExecutor(max_workers=64) as clients,
    ):
        replies = list(
            clients.map(lambda n: ask(run.address, b"%d\n" % n, timeout=WAIT * 3), range(flood))
        )
        assert replies == [b"%d\n" % n for n in range(flood)]
        counts = run.settle(accepted_at_least=flood)
        assert counts.completed >= flood
        run.assert_serves()
