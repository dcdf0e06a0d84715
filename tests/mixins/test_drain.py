"""One graceful drain and one set of counters for every sync model: each scenario runs on each.

A drain stops taking requests at once, lets those in flight finish until the
deadline, then shuts the rest down; the counters prove nothing was lost:
``accepted == active + completed + failed + refused + cut``.
"""

from __future__ import annotations

import contextlib
import select
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable

import pytest

from sockserve.core import BaseRequestHandler, DrainResult, RequestCounts, StreamRequest
from tests.conftest import script_server

from .conftest import WAIT, Address, ForkingServer, LoopbackServer, PoolServer, ThreadingServer

Build = Callable[..., LoopbackServer]
Serve = Callable[..., threading.Thread]

CONCURRENT = [ThreadingServer, PoolServer, ForkingServer]
ALL_MODELS = [LoopbackServer, *CONCURRENT]


def model_id(cls: type[LoopbackServer]) -> str:
    return {
        LoopbackServer: "sync",
        ThreadingServer: "threading",
        PoolServer: "pool",
        ForkingServer: "forking",
    }[cls]


def balanced(counts: RequestCounts) -> bool:
    ended = counts.completed + counts.failed + counts.refused + counts.cut
    return counts.accepted == counts.active + ended


class QuickOrStuck(BaseRequestHandler[StreamRequest, LoopbackServer, Address]):
    """``quick``: answers after 0.1 s. ``stuck``: waits for more, which never comes."""

    def handle(self) -> None:
        word = self.request.recv(16)
        if word == b"stuck":
            self.request.recv(16)  # returns b"" once the drain shuts the connection
            return
        if word == b"fail":
            raise ValueError("failed on purpose")
        time.sleep(0.1)
        self.request.sendall(b"done " + word)


class Quiet:
    """A ``handle_error`` that counts instead of printing."""

    errors = 0

    def handle_error(self, request: object, client_address: object) -> None:
        type(self).errors += 1


def send(server: LoopbackServer, word: bytes) -> socket.socket:
    client = socket.create_connection(server.server_address, timeout=WAIT)
    client.sendall(word)
    return client


def read_all(client: socket.socket) -> bytes:
    with client:
        data = b""
        while chunk := client.recv(64):
            data += chunk
        return data


def in_flight(server: LoopbackServer, count: int) -> None:
    deadline = time.monotonic() + WAIT
    while server.request_counts().active < count:
        assert time.monotonic() < deadline, server.request_counts()
        time.sleep(0.01)


@pytest.mark.parametrize("model", CONCURRENT, ids=model_id)
def test_a_drain_lets_quick_requests_finish_and_cuts_the_stuck_one(
    model: type[LoopbackServer], build: Build, serve: Serve
) -> None:
    server = build(model, QuickOrStuck)
    thread = serve(server)
    stuck = send(server, b"stuck")
    quick = send(server, b"quick")
    in_flight(server, 2)
    started = time.monotonic()
    result = server.drain(1.0)
    took = time.monotonic() - started
    thread.join(WAIT)
    assert result == DrainResult(completed=1, cut=1)
    assert 0.9 <= took < WAIT / 2
    assert read_all(quick) == b"done quick"
    assert read_all(stuck) == b""
    counts = server.request_counts()
    assert (counts.accepted, counts.completed, counts.cut, counts.active) == (2, 1, 1, 0)


def test_a_drain_cuts_the_sync_servers_own_request_from_another_thread(
    build: Build, serve: Serve
) -> None:
    server = build(LoopbackServer, QuickOrStuck)
    thread = serve(server)
    stuck = send(server, b"stuck")
    in_flight(server, 1)
    assert server.drain(0.1) == DrainResult(completed=0, cut=1)
    thread.join(WAIT)
    assert not thread.is_alive()
    assert read_all(stuck) == b""


@pytest.mark.parametrize("model", ALL_MODELS, ids=model_id)
def test_a_drain_that_beats_its_deadline_returns_early(
    model: type[LoopbackServer], build: Build, serve: Serve
) -> None:
    server = build(model, QuickOrStuck)
    thread = serve(server)
    quick = send(server, b"quick")
    in_flight(server, 1)
    started = time.monotonic()
    assert server.drain(WAIT * 3) == DrainResult(completed=1, cut=0)
    assert time.monotonic() - started < WAIT / 2
    thread.join(WAIT)
    assert read_all(quick) == b"done quick"


@pytest.mark.parametrize("model", ALL_MODELS, ids=model_id)
def test_a_drain_before_serving_makes_serving_return_at_once(
    model: type[LoopbackServer], build: Build
) -> None:
    server = build(model, QuickOrStuck)
    results: list[DrainResult] = []
    drainer = threading.Thread(target=lambda: results.append(server.drain(5)), daemon=True)
    drainer.start()
    time.sleep(0.05)
    server.serve_forever()
    drainer.join(WAIT)
    assert results == [DrainResult(0, 0)]


@pytest.mark.parametrize("model", CONCURRENT, ids=model_id)
def test_under_load_nothing_is_lost_and_every_client_hears_back(
    model: type[LoopbackServer], build: Build, serve: Serve
) -> None:
    server_class = type("Quiet" + model.__name__, (Quiet, model), {"errors": 0})
    server = build(server_class, QuickOrStuck)
    thread = serve(server)
    words = [b"quick", b"stuck", b"fail"] * 6
    clients = [send(server, word) for word in words]
    deadline = time.monotonic() + WAIT
    while server.request_counts().accepted < len(words):  # forks take a while under load
        assert time.monotonic() < deadline, server.request_counts()
        time.sleep(0.01)
    server.drain(0.5)
    thread.join(WAIT)
    replies = [read_all(client) for client in clients]
    counts = server.request_counts()
    assert balanced(counts)
    assert counts.active == 0
    assert counts.accepted == len(words)
    assert counts.cut == words.count(b"stuck")
    assert counts.failed == words.count(b"fail")
    assert counts.completed == words.count(b"quick")
    assert replies == [b"done quick" if w == b"quick" else b"" for w in words]


@pytest.mark.parametrize("model", ALL_MODELS, ids=model_id)
def test_refused_and_failed_requests_are_counted(
    model: type[LoopbackServer], build: Build, serve: Serve
) -> None:
    class Picky(Quiet, model):  # type: ignore[valid-type, misc]
        def verify_request(self, request: socket.socket, client_address: Address) -> bool:
            return request.recv(16, socket.MSG_PEEK) != b"no"

    server = build(Picky, QuickOrStuck)
    serve(server)
    for word in (b"no", b"fail", b"quick"):
        read_all(send(server, word))
    server.drain(WAIT)
    counts = server.request_counts()
    assert counts == RequestCounts(accepted=3, active=0, completed=1, failed=1, refused=1, cut=0)


# Not forking: a child's request_drain() is its own copy of the server's (as a
# child's shutdown() is in the stdlib); the parent goes on serving.
@pytest.mark.parametrize("model", [ThreadingServer, PoolServer], ids=model_id)
def test_a_handler_may_ask_for_a_drain_but_not_wait_for_one(
    model: type[LoopbackServer], build: Build
) -> None:
    refusals: list[str] = []

    class Asks(BaseRequestHandler[StreamRequest, LoopbackServer, Address]):
        def handle(self) -> None:
            try:
                self.server.drain(1)
            except RuntimeError as exc:
                refusals.append(str(exc))
            self.server.request_drain(WAIT)
            self.request.sendall(b"draining")

    server = build(model, Asks)
    client = send(server, b"go")
    server.serve_forever()  # returns: the handler asked for a drain
    assert read_all(client) == b"draining"
    assert refusals
    assert "request_drain" in refusals[0]


SIGTERM_SERVER = """
import sys, time
from sockserve.core import BaseRequestHandler, drain_on_signals
from tests.mixins.conftest import {model}

class Slow(BaseRequestHandler):
    def handle(self):
        self.request.recv(16)
        self.request.sendall(b"<")  # in flight now
        time.sleep(0.3)
        self.request.sendall(b"finished")

with {model}(("127.0.0.1", 0), Slow) as server, drain_on_signals(server, {grace}):
    print(server.server_address[1], flush=True)
    server.serve_forever()
    print(server.request_counts(), flush=True)
"""


@pytest.mark.parametrize("model", ["ThreadingServer", "PoolServer", "ForkingServer"])
def test_sigterm_drains_gracefully_and_loses_nothing(model: str) -> None:
    with script_server(SIGTERM_SERVER.format(model=model, grace=WAIT)) as (process, port):
        address = ("127.0.0.1", int(port))
        clients = [socket.create_connection(address, timeout=WAIT) for _ in range(4)]
        with contextlib.ExitStack() as closing:
            for client in clients:
                closing.enter_context(client)
                client.sendall(b"go")
            for client in clients:
                assert client.recv(1) == b"<"  # all four in flight (a busy machine is slow)
            process.send_signal(signal.SIGTERM)
            assert [read_all(c) for c in clients] == [b"finished"] * 4
        assert process.wait(WAIT) == 0
        assert process.stdout is not None
        final = process.stdout.read()
        assert "accepted=4, active=0, completed=4, failed=0, refused=0, cut=0" in final


def test_a_second_signal_cuts_at_once() -> None:
    script = SIGTERM_SERVER.format(model="PoolServer", grace=WAIT * 10)
    # The drain's log lines on stdout: the second signal goes only once the first
    # was handled, as Python folds two signals that arrive before its handler runs.
    script = script.replace(
        "import sys, time",
        "import logging, sys, time\nlogging.basicConfig(level=logging.INFO, stream=sys.stdout)",
    )
    with script_server(script.replace("time.sleep(0.3)", "self.request.recv(16)")) as (
        process,
        port,
    ):
        stuck = socket.create_connection(("127.0.0.1", int(port)), timeout=WAIT)
        stuck.sendall(b"go")
        assert stuck.recv(1) == b"<"  # in flight
        process.send_signal(signal.SIGINT)
        assert "SIGINT: draining" in next_line(process)
        time.sleep(0.1)
        assert process.poll() is None  # the first waits for the stuck request...
        process.send_signal(signal.SIGINT)  # ...the second cuts it
        assert process.wait(WAIT) == 0
        assert process.stdout is not None
        assert "cut=1" in process.stdout.read()
        stuck.close()


def next_line(process: subprocess.Popen[str]) -> str:
    """The next line the script prints, waiting up to `WAIT` seconds."""
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], WAIT)
    assert ready, "the script printed nothing"
    return process.stdout.readline()


class FailsOnceCut(BaseRequestHandler[StreamRequest, LoopbackServer, Address]):
    """Waits for more; once a drain cuts it, fails as a careless handler would."""

    def handle(self) -> None:
        self.request.recv(16)
        if not self.request.recv(16):
            raise ConnectionError("the connection went away")


# Not forking: a drain's deadline kills the child, which has no error left to report.
@pytest.mark.parametrize("model", [LoopbackServer, ThreadingServer, PoolServer], ids=model_id)
def test_an_error_a_cut_causes_is_not_reported(
    model: type[LoopbackServer], build: Build, serve: Serve
) -> None:
    class Counting(Quiet, model):  # type: ignore[valid-type, misc]
        errors = 0

    server = build(Counting, FailsOnceCut)
    thread = serve(server)
    with send(server, b"go") as client:
        in_flight(server, 1)
        assert server.drain(0.1) == DrainResult(completed=0, cut=1)
        thread.join(WAIT)
        assert client.recv(16) == b""
    assert Counting.errors == 0
    assert server.request_counts().cut == 1


def test_a_drain_waited_for_gets_its_result_when_serving_ends_with_an_exception(
    build: Build,
) -> None:
    drains: list[DrainResult] = []

    class EndsTheServer(BaseRequestHandler[StreamRequest, LoopbackServer, Address]):
        def handle(self) -> None:
            self.request.recv(16)
            waiter = threading.Thread(target=lambda: drains.append(self.server.drain(WAIT)))
            waiter.start()
            time.sleep(0.2)  # the drain is asked for while this request runs
            raise SystemExit("the handler ends the server")

    server = build(LoopbackServer, EndsTheServer)
    with send(server, b"go"), pytest.raises(SystemExit):
        server.serve_forever()
    deadline = time.monotonic() + WAIT
    while not drains:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert drains == [DrainResult(completed=1, cut=0)]  # not a stale (0, 0)
