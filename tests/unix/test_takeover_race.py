"""Servers starting at the same instant on one stale socket file: exactly one wins."""

from __future__ import annotations

import errno
import os
import socket
import subprocess
import sys
import threading

from sockserve.core import BaseRequestHandler
from sockserve.unix import UnixStreamServer
from tests.conftest import ROOT, WAIT


def leave_stale(path: str) -> None:
    """A socket file nobody is bound to: bound, then closed without removing it."""
    with socket.socket(socket.AF_UNIX) as gone:
        gone.bind(path)


def reachable(path: str) -> bool:
    with socket.socket(socket.AF_UNIX) as client:
        client.settimeout(WAIT)
        return client.connect_ex(path) == 0


def race(path: str, racers: int) -> tuple[list[UnixStreamServer], list[int | None]]:
    """``racers`` threads build a server on ``path`` at once: the servers made, the errnos."""
    start = threading.Barrier(racers)
    won: list[UnixStreamServer] = []
    refused: list[int | None] = []

    def start_one() -> None:
        start.wait(WAIT)
        try:
            won.append(UnixStreamServer(path, BaseRequestHandler))
        except OSError as exc:
            refused.append(exc.errno)

    threads = [threading.Thread(target=start_one) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    return won, refused


def test_threads_racing_for_a_stale_file_leave_one_reachable_winner(sock_dir: str) -> None:
    path = os.path.join(sock_dir, "s")
    for _ in range(60):
        leave_stale(path)
        won, refused = race(path, 4)
        assert len(won) == 1, (len(won), refused)
        assert refused == [errno.EADDRINUSE] * 3
        assert reachable(path)  # the winner owns the file at the path, not a deleted one
        won[0].server_close()
        assert not os.path.exists(path)


RACER = """
import errno, sys, time
from sockserve.core import BaseRequestHandler
from sockserve.unix import UnixStreamServer
start_at = float(sys.argv[2])
while time.time() < start_at:
    pass
try:
    server = UnixStreamServer(sys.argv[1], BaseRequestHandler)
except OSError as exc:
    print("refused", errno.errorcode.get(exc.errno), flush=True)
    sys.exit(0)
print("won", flush=True)
sys.stdin.read()  # serve (listening) until the test has looked
server.server_close()
"""


def test_processes_racing_for_a_stale_file_leave_one_reachable_winner(sock_dir: str) -> None:
    import time

    path = os.path.join(sock_dir, "p")
    for _ in range(15):
        leave_stale(path)
        start_at = str(time.time() + 0.5)  # every racer spins until the same instant
        racers = [
            subprocess.Popen(
                [sys.executable, "-c", RACER, path, start_at],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                cwd=ROOT,
            )
            for _ in range(3)
        ]
        try:
            said = sorted(racer.stdout.readline().strip() for racer in racers if racer.stdout)
            assert said == ["refused EADDRINUSE", "refused EADDRINUSE", "won"], said
            assert reachable(path)
        finally:
            for racer in racers:
                assert racer.stdin is not None
                racer.stdin.close()
                racer.wait(WAIT)
                if racer.stdout is not None:
                    racer.stdout.close()
        assert not os.path.exists(path)
