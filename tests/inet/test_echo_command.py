"""The README's quick-start server, run as a user would: as a separate process."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

WAIT = 10.0


@contextmanager
def echo_server(*args: str, interrupts: int = 1) -> Iterator[tuple[str, int]]:
    """Run the demo with ``args``; yield where it listens; Ctrl-C it ``interrupts`` times after.

    It must then exit with status 0 and no traceback.
    """
    command = [sys.executable, "-m", "sockserve.inet.echo", "--port", "0", *args]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        first_line = process.stdout.readline()
        pattern = r"Serving (TCP|UDP) echo on (127\.0\.0\.1|\[::1\]):(\d+)\n"
        match = re.fullmatch(pattern, first_line)
        assert match, first_line
        yield match.group(2).strip("[]"), int(match.group(3))
        for _ in range(interrupts):
            process.send_signal(signal.SIGINT)
        assert process.wait(WAIT) == 0
        assert process.stderr is not None
        assert "Traceback" not in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(WAIT)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def test_tcp_echo_prints_where_it_listens_and_echoes_lines() -> None:
    with (
        echo_server() as address,
        socket.create_connection(address, timeout=WAIT) as client,
    ):
        reader = client.makefile("rb")
        for line in (b"hello\n", b"sockserve\n"):
            client.sendall(line)
            assert reader.readline() == line
        reader.close()


def test_udp_echo_returns_each_datagram() -> None:
    with (
        echo_server("--udp") as address,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client,
    ):
        client.settimeout(WAIT)
        client.sendto(b"datagram", address)
        assert client.recvfrom(64) == (b"datagram", address)


@pytest.mark.parametrize("port", ["-1", "65536", "http"])
def test_a_bad_port_is_a_usage_error(port: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sockserve.inet.echo", "--port", port],
        capture_output=True,
        text=True,
        timeout=WAIT,
    )
    assert result.returncode == 2
    assert "--port" in result.stderr


def test_a_port_in_use_is_one_line_and_exit_status_1() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        command = [sys.executable, "-m", "sockserve.inet.echo", "--port", str(port)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=WAIT)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    expected = f"python -m sockserve.inet.echo: cannot listen on 127.0.0.1:{port}: "
    assert done.stderr.startswith(expected)
    assert len(done.stderr.splitlines()) == 1


def test_ipv6_by_address_with_the_port_in_brackets_and_a_second_ctrl_c() -> None:
    try:
        socket.create_server(("::1", 0), family=socket.AF_INET6).close()
    except OSError:
        pytest.skip("no IPv6 loopback here")
    with (
        echo_server("--host", "::1", interrupts=2) as address,  # as impatient users do
        socket.create_connection(address, timeout=WAIT) as client,
    ):
        client.sendall(b"six\n")
        assert client.recv(16) == b"six\n"
