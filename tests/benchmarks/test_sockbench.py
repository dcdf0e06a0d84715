"""The compiled load generator counts what it claims to count, against real sockets on loopback."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from harness import native

#: The longest one sockbench run may take here: 0.3 s of load plus its grace.
RUN_TIMEOUT = 20.0


def client(mode: str, target: str, *options: str) -> dict[str, float]:
    command = [str(native.sockbench()), "client", mode, target, "--duration", "0.3", *options]
    done = subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=True)
    lines = done.stdout.split()
    assert lines[:2] == ["active", "done"]  # the phase markers the harness reads
    report: dict[str, float] = json.loads(done.stdout.splitlines()[-1])
    return report


@contextmanager
def tcp_server(serve: Callable[[socket.socket], None]) -> Iterator[str]:
    """A one-connection-at-a-time TCP server on 127.0.0.1 running ``serve`` per connection."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            # The client may reset a connection it gave up on: that ends this one only.
            with connection, suppress(OSError):
                connection.settimeout(5)
                serve(connection)

    thread = threading.Thread(target=loop)
    thread.start()
    try:
        yield f"tcp:127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(10)
        listener.close()


@contextmanager
def calibration(proto: str, bind: str) -> Iterator[str]:
    server = subprocess.Popen(
        [str(native.sockbench()), "server", proto, bind], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        yield server.stdout.readline().strip()
    finally:
        server.kill()
        server.wait()
        assert server.stdout is not None
        server.stdout.close()


def echo_lines(connection: socket.socket) -> None:
    with connection.makefile("rb") as rfile:
        for line in rfile:
            connection.sendall(line)


def test_echo_against_the_calibration_server_has_no_errors() -> None:
    with calibration("echo", "tcp:127.0.0.1:0") as target:
        report = client("echo", target, "--conns", "4")
    assert report["ops"] > 100
    assert report["errors"] == report["connect_errors"] == report["stalled"] == 0
    assert report["opened"] == 4
    assert 0 < report["p50_us"] <= report["p99_us"]
    assert report["cpu_s"] > 0


def test_echo_against_a_python_server_matches_bytes() -> None:
    with tcp_server(echo_lines) as target:
        report = client("echo", target)
    assert report["ops"] > 10
    assert report["mismatched"] == report["errors"] == 0


def test_a_wrong_reply_is_a_mismatch_and_an_error() -> None:
    def upper(connection: socket.socket) -> None:
        with connection.makefile("rb") as rfile:
            connection.sendall(rfile.readline().upper())

    with tcp_server(upper) as target:
        report = client("echo", target)
    assert report["mismatched"] >= 1
    assert report["errors"] >= report["mismatched"]
    assert report["ops"] == 0


def test_a_server_that_accepts_but_never_replies_opens_nothing() -> None:
    """A connection counts as open only once a line has made the round trip."""

    def mute(connection: socket.socket) -> None:
        connection.recv(64)
        connection.recv(64)  # returns (or raises) as the client gives up

    with tcp_server(mute) as target:
        report = client("echo", target, "--connect-timeout", "0.3")
    assert report["ops"] == 0
    assert report["connect_errors"] == 1
    assert report["opened"] == 0


def test_a_reply_that_stops_coming_is_a_stalled_operation() -> None:
    def answer_once(connection: socket.socket) -> None:
        with connection.makefile("rb") as rfile:
            connection.sendall(rfile.readline())  # the open phase's round trip
            rfile.readline()  # the first measured request: never answered
            rfile.readline()  # returns (or raises) as the client gives up

    with tcp_server(answer_once) as target:
        report = client("echo", target, "--op-timeout", "0.2")
    assert report["ops"] == 0
    assert report["connect_errors"] == 0
    assert report["opened"] == 1
    assert report["stalled"] == 1


def test_a_closed_port_is_a_connect_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, never listening: connects are refused
        report = client("close", f"tcp:127.0.0.1:{port}")
    assert report["ops"] == 0
    assert report["connect_errors"] > 0


def test_connect_close_and_udp_and_unix(tmp_path: Path) -> None:
    with calibration("once", "tcp:127.0.0.1:0") as target:
        closes = client("close", target, "--conns", "4")
    with calibration("udp", "udp:127.0.0.1:0") as target:
        datagrams = client("udp", target, "--conns", "4")
    with calibration("echo", f"unix:{tmp_path}/s.sock") as target:
        unix = client("echo", target, "--conns", "4")
    for report in (closes, datagrams, unix):
        assert report["ops"] > 50
        assert report["errors"] == 0


def test_bad_arguments_are_refused_by_name() -> None:
    done = subprocess.run(
        [str(native.sockbench()), "client", "echo", "tcp:127.0.0.1:1", "--conns", "zero"],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    assert done.returncode == 2
    assert "--conns" in done.stderr
    assert "zero" in done.stderr
