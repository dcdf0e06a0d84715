"""shutdown() wakes serve_forever at once; request_shutdown() works from anywhere."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time

import pytest

from sockserve.core import BaseRequestHandler, StreamRequest

from .conftest import Address, LoopbackStreamServer, ServerFactory

# Long enough that a server which polled for shutdown would visibly not stop:
# the tests then fail on their WAIT-bounded joins instead of passing slowly.
NEVER = 3600.0
WAIT = 10.0


def exchange(server: LoopbackStreamServer, payload: bytes = b"ping") -> bytes:
    with socket.create_connection(server.server_address, timeout=WAIT) as client:
        client.sendall(payload)
        return client.recv(1024)


def start_serving(server: LoopbackStreamServer, poll_interval: float | None) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, args=(poll_interval,), daemon=True)
    thread.start()
    return thread


def shutdown_within(server: LoopbackStreamServer, limit: float) -> bool:
    stopper = threading.Thread(target=server.shutdown, daemon=True)
    stopper.start()
    stopper.join(limit)
    return not stopper.is_alive()


@pytest.mark.parametrize("poll_interval", [NEVER, None])
def test_shutdown_does_not_wait_for_the_poll_interval(
    make_server: ServerFactory, poll_interval: float | None
) -> None:
    server = make_server()
    thread = start_serving(server, poll_interval)
    assert exchange(server) == b"ping"  # the loop is running and blocked in select()
    assert shutdown_within(server, WAIT)
    thread.join(WAIT)
    assert not thread.is_alive()


def test_the_server_serves_again_after_shutdown(
    make_server: ServerFactory,
) -> None:
    server = make_server()
    for _ in range(3):
        thread = start_serving(server, NEVER)
        assert exchange(server) == b"ping"
        assert shutdown_within(server, WAIT)
        thread.join(WAIT)


def test_service_actions_still_run_every_poll_interval(
    make_server: ServerFactory,
) -> None:
    ticks = threading.Semaphore(0)

    class Ticking(LoopbackStreamServer):
        def service_actions(self) -> None:
            ticks.release()

    server = make_server(Ticking)
    start_serving(server, 0.01)
    # No request arrives: only the poll interval can drive these calls.
    assert all(ticks.acquire(timeout=WAIT) for _ in range(5))
    assert shutdown_within(server, WAIT)


class StopsTheServer(BaseRequestHandler[StreamRequest, LoopbackStreamServer, Address]):
    def handle(self) -> None:
        self.server.request_shutdown()
        self.request.sendall(b"bye")


def test_a_handler_on_the_serving_thread_can_request_shutdown(
    make_server: ServerFactory,
) -> None:
    server = make_server(handler=StopsTheServer)
    thread = start_serving(server, NEVER)
    assert exchange(server) == b"bye"
    thread.join(WAIT)
    assert not thread.is_alive()


def test_request_shutdown_before_serving_makes_the_next_loop_return_at_once(
    make_server: ServerFactory,
) -> None:
    server = make_server()
    server.request_shutdown()
    thread = start_serving(server, NEVER)
    thread.join(WAIT)
    assert not thread.is_alive()


class CallsShutdown(BaseRequestHandler[StreamRequest, LoopbackStreamServer, Address]):
    def handle(self) -> None:
        self.server.shutdown()


def test_shutdown_from_the_serving_thread_raises_instead_of_deadlocking(
    make_server: ServerFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    server = make_server(handler=CallsShutdown)
    thread = start_serving(server, NEVER)
    with socket.create_connection(server.server_address, timeout=WAIT) as client:
        assert client.recv(1) == b""  # the server closed it after handle_error
    assert thread.is_alive(), "the error must not stop the server"
    assert "RuntimeError: shutdown() called from the thread running serve_forever()" in (
        capsys.readouterr().err
    )
    assert shutdown_within(server, WAIT)


def test_shutdown_is_safe_against_a_concurrent_start(
    make_server: ServerFactory,
) -> None:
    server = make_server()
    for _ in range(50):
        thread = start_serving(server, NEVER)
        assert shutdown_within(server, WAIT)
        thread.join(WAIT)
        assert not thread.is_alive()


def test_shutdown_returns_before_the_poll_interval(
    make_server: ServerFactory,
) -> None:
    server = make_server()
    start_serving(server, NEVER)
    started = time.monotonic()
    assert shutdown_within(server, WAIT)
    assert time.monotonic() - started < WAIT


@pytest.mark.parametrize("poll_interval", [0.01, None])
def test_server_close_from_another_thread_ends_serving_instead_of_spinning(
    poll_interval: float | None, make_server: ServerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    server = make_server()
    thread = start_serving(server, poll_interval)
    time.sleep(0.05)  # serving
    started = time.process_time()
    server.server_close()  # the wrong way round: no shutdown() first
    thread.join(10)
    assert not thread.is_alive()
    assert time.process_time() - started < 1.0  # no busy loop on the closed socket
    assert "server_close() while serve_forever() runs" in caplog.text


OUT_OF_DESCRIPTORS = """
import logging, os, resource, socket, sys, threading, time
from sockserve.core import BaseRequestHandler, StreamServer

logging.basicConfig(level=logging.WARNING)
resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))

class Server(StreamServer):
    address_family = socket.AF_INET

class Hello(BaseRequestHandler):
    def handle(self):
        self.request.sendall(b"hello")

server = Server(("127.0.0.1", 0), Hello)
taken = []
while True:  # every descriptor taken: none left for a wake-up channel
    try:
        taken.append(os.dup(0))
    except OSError:
        break
serving = threading.Thread(target=server.serve_forever, args=(None,))
serving.start()
time.sleep(0.2)
for fd in taken[:8]:  # a few free again: one for the client, one for its connection
    os.close(fd)
with socket.create_connection(server.server_address, timeout=10) as client:
    print(client.recv(16).decode(), flush=True)
started = time.monotonic()
server.shutdown()
print("shutdown took %.2f s" % (time.monotonic() - started), flush=True)
serving.join(10)
print("serving:", serving.is_alive())
"""


def test_serving_starts_and_stops_with_no_descriptor_to_spare() -> None:
    done = subprocess.run(
        [sys.executable, "-c", OUT_OF_DESCRIPTORS], capture_output=True, text=True, timeout=WAIT * 2
    )
    assert done.returncode == 0, done.stderr
    hello, shutdown_line, alive = done.stdout.splitlines()
    assert hello == "hello"  # served, once descriptors freed up
    assert float(shutdown_line.split()[2]) < 1.0
    assert alive == "serving: False"
    assert "no descriptors left for serve_forever()'s wake-up channel" in done.stderr
