"""`Prefork`: supervised worker processes, restarts, rolling restarts, drains, no orphans.

Each supervisor runs in a process of its own (its main thread, so it handles
signals, and forks from a process with no other threads); the tests drive
it with real clients and signals, and learn the workers' pids from replies.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import threading
import time

import pytest

from tests.conftest import script_server

from .conftest import WAIT

SUPERVISOR = """
import os, sys, time
from sockserve.core import BaseRequestHandler
from sockserve.mixins import Prefork
from tests.mixins.conftest import LoopbackServer, PoolServer, ThreadingServer

class Pid(BaseRequestHandler):
    def handle(self):
        data = self.request.recv(64)
        if data.startswith(b"slow"):
            time.sleep(0.3)
        self.request.sendall(str(os.getpid()).encode())
        if data.startswith(b"wait"):  # until the client hangs up, or a drain cuts
            self.request.recv(64)
        elif data.startswith(b"stuck"):  # off the socket: a cut cannot end it
            time.sleep(60)

class Server({base}):
    allow_reuse_port = {reuse_port}
    {extra}

server = Server(("127.0.0.1", 0), Pid)
with Prefork(server, workers={workers}, drain_timeout={grace}, reuse_port={reuse_port}) as prefork:
    print(server.server_address[1], flush=True)
    prefork.serve_forever()
    print("counts", prefork.request_counts(), flush=True)
    print("drained", prefork.drain_results(), flush=True)
    print("exits", prefork.exit_codes, flush=True)
"""


def supervisor(
    base: str = "ThreadingServer",
    workers: int = 2,
    grace: float = WAIT,
    reuse_port: bool = False,
    extra: str = "pass",
) -> str:
    return SUPERVISOR.format(
        base=base, workers=workers, grace=grace, reuse_port=reuse_port, extra=extra
    )


def ask(port: int, word: bytes = b"hi") -> int:
    """One request; the pid of the worker that served it."""
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as client:
        client.sendall(word)
        return int(client.recv(64))


def first_answer(port: int) -> int:
    """Ask until a worker listens (with ``reuse_port``, none does until the workers start)."""
    deadline = time.monotonic() + WAIT
    while True:
        try:
            return ask(port)
        except ConnectionRefusedError:
            assert time.monotonic() < deadline
            time.sleep(0.02)


def workers_seen(port: int, count: int) -> set[int]:
    """Ask until ``count`` different workers have answered (bounded by `WAIT`)."""
    seen = {first_answer(port)}
    deadline = time.monotonic() + WAIT
    while len(seen) < count:
        assert time.monotonic() < deadline, seen
        seen.add(ask(port))
    return seen


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def wait_gone(pids: set[int]) -> None:
    deadline = time.monotonic() + WAIT
    while not all(gone(pid) for pid in pids):
        assert time.monotonic() < deadline, [p for p in pids if not gone(p)]
        time.sleep(0.02)


def final_report(process: object) -> dict[str, str]:
    assert hasattr(process, "stdout")
    assert process.stdout is not None
    lines = [line.split(" ", 1) for line in process.stdout.read().splitlines() if " " in line]
    return {key: value for key, value in lines}


@pytest.mark.parametrize("base", ["LoopbackServer", "ThreadingServer", "PoolServer"])
def test_workers_share_the_load_and_sigterm_drains_them_losing_nothing(base: str) -> None:
    with script_server(supervisor(base)) as (process, port):
        pids = workers_seen(int(port), 2)
        assert len(pids) == 2
        assert process.pid not in pids
        slow = [socket.create_connection(("127.0.0.1", int(port)), timeout=WAIT) for _ in range(2)]
        for client in slow:
            client.sendall(b"slow")
        time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        for client in slow:
            with client:
                assert int(client.recv(64)) in pids  # in flight at SIGTERM: completed
        assert process.wait(WAIT) == 0
        report = final_report(process)
        wait_gone(pids)  # reaped: not left as zombies or orphans
    assert "active=0" in report["counts"]
    assert "failed=0, refused=0, cut=0" in report["counts"]
    assert report["exits"] == "[0, 0]"


def test_a_killed_worker_is_restarted() -> None:
    with script_server(supervisor()) as (process, port):
        first = workers_seen(int(port), 2)
        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + WAIT
        now = set(first)
        while victim in now or len(now) < 2:
            assert time.monotonic() < deadline, now
            now = workers_seen(int(port), 2)
        assert now - first  # a new worker serves in its place
        process.send_signal(signal.SIGTERM)
        assert process.wait(WAIT) == 0
        report = final_report(process)
        wait_gone(now)
    assert report["exits"].startswith("[-9,")  # the killed one, then the drained ones


def test_a_worker_that_dies_at_start_is_restarted_with_a_back_off() -> None:
    crashing = (
        "def serve_forever(self, poll_interval=0.5):\n"
        "        raise RuntimeError('this worker dies at start')"
    )
    with script_server(supervisor("LoopbackServer", workers=1, extra=crashing)) as (process, _):
        time.sleep(1.6)
        process.send_signal(signal.SIGTERM)
        assert process.wait(WAIT) == 0
        report = final_report(process)
    restarts = report["exits"].count("1")
    # 0, 0.1, 0.2, 0.4, 0.8 s between deaths: a handful in 1.6 s, not a fork bomb.
    assert 3 <= restarts <= 7


def test_sighup_replaces_every_worker_and_no_request_fails() -> None:
    with script_server(supervisor("PoolServer", grace=5)) as (process, port):
        before = workers_seen(int(port), 2)
        served: list[int] = []
        failures: list[BaseException] = []
        stop = threading.Event()

        def load() -> None:
            while not stop.is_set():
                try:
                    served.append(ask(int(port)))
                except OSError as exc:  # a refused or reset connection
                    failures.append(exc)

        clients = [threading.Thread(target=load) for _ in range(4)]
        for client in clients:
            client.start()
        time.sleep(0.3)
        process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + WAIT
        while not before.isdisjoint(set(served[-50:])) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.3)
        stop.set()
        for client in clients:
            client.join(WAIT)
        after = workers_seen(int(port), 2)
        process.send_signal(signal.SIGTERM)
        assert process.wait(WAIT) == 0
        wait_gone(before | after)
    assert failures == []
    assert before.isdisjoint(after)  # every worker was replaced
    assert len(served) > 100


def test_workers_exit_when_their_supervisor_is_killed() -> None:
    with script_server(supervisor(grace=1)) as (process, port):
        pids = workers_seen(int(port), 2)
        process.kill()
        process.wait(WAIT)
        wait_gone(pids)  # no orphan serves on


def test_with_reuse_port_each_worker_binds_its_own_socket() -> None:
    with script_server(supervisor("ThreadingServer", reuse_port=True)) as (process, port):
        pids = workers_seen(int(port), 2)
        process.send_signal(signal.SIGTERM)
        assert process.wait(WAIT) == 0
        wait_gone(pids)


def test_reuse_port_without_allow_reuse_port_is_a_clear_error() -> None:
    from sockserve.mixins import Prefork

    from .conftest import ThreadingServer

    with ThreadingServer(("127.0.0.1", 0), object) as server:  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="allow_reuse_port"):
            Prefork(server, workers=2, reuse_port=True)
        with pytest.raises(ValueError, match="workers"):
            Prefork(server, workers=0)
        with pytest.raises(TypeError, match="drain"):
            Prefork(server, workers=1, drain_timeout="soon")  # type: ignore[arg-type]


TRIO_SUPERVISOR = """
import os, socket
from sockserve.core import StreamServer
from sockserve.mixins import Prefork
from sockserve.trio_backend import AsyncStreamRequestHandler, TrioMixIn

class Server(TrioMixIn, StreamServer):
    address_family = socket.AF_INET

class Pid(AsyncStreamRequestHandler):
    async def handle(self):
        await self.stream.receive_some()
        await self.send(str(os.getpid()).encode())

server = Server(("127.0.0.1", 0), Pid)
with Prefork(server, workers=2, drain_timeout=5) as prefork:
    print(server.server_address[1], flush=True)
    prefork.serve_forever()
    print("counts", prefork.request_counts(), flush=True)
    print("exits", prefork.exit_codes, flush=True)
"""


def test_the_trio_backend_runs_in_prefork_workers() -> None:
    pytest.importorskip("sockserve.trio_backend")
    with script_server(TRIO_SUPERVISOR) as (process, port):
        pids = workers_seen(int(port), 2)
        process.send_signal(signal.SIGINT)  # Ctrl-C: the supervisor drains its workers
        assert process.wait(WAIT) == 0
        report = final_report(process)
        wait_gone(pids)
    assert "active=0" in report["counts"]
    assert report["exits"] == "[0, 0]"


def hold(port: int, word: bytes) -> tuple[socket.socket, int]:
    """A connection whose request stays in flight; the pid of the worker that holds it."""
    client = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
    client.sendall(word)
    return client, int(client.recv(64))


@pytest.mark.parametrize("base", ["LoopbackServer", "ThreadingServer", "PoolServer"])
def test_a_second_sigterm_cuts_at_once_however_long_the_drain_timeout(base: str) -> None:
    with script_server(supervisor(base, grace=60)) as (process, port):
        pids = workers_seen(int(port), 2)
        client, _ = hold(int(port), b"wait")
        with client:
            process.send_signal(signal.SIGTERM)
            time.sleep(0.3)
            process.send_signal(signal.SIGTERM)
            assert process.wait(WAIT) == 0  # not 60 s: the second signal cut the request
            assert client.recv(64) == b""
        report = final_report(process)
        wait_gone(pids)
    assert "active=0" in report["counts"]
    assert "failed=0, refused=0, cut=1" in report["counts"]
    # The held request was cut; one of workers_seen()'s may still have been ending.
    assert re.fullmatch(r"DrainResult\(completed=[01], cut=1\)", report["drained"])
    assert report["exits"] == "[0, 0]"  # cut, then exited: none had to be killed


def test_a_worker_stuck_past_the_grace_is_killed_and_its_request_counted_cut() -> None:
    with script_server(supervisor("ThreadingServer", grace=0.3)) as (process, port):
        pids = workers_seen(int(port), 2)
        client, stuck = hold(int(port), b"stuck")
        with client:
            process.send_signal(signal.SIGTERM)
            assert process.wait(WAIT) == 0
        report = final_report(process)
        wait_gone(pids)
    assert stuck in pids
    assert "active=0" in report["counts"]
    assert "cut=1" in report["counts"]
    assert sorted(report["exits"].strip("[]").split(", ")) == ["-9", "0"]


def test_the_requests_of_a_worker_that_crashes_count_as_failed() -> None:
    with script_server(supervisor("ThreadingServer")) as (process, port):
        first = workers_seen(int(port), 2)
        client, stuck = hold(int(port), b"stuck")
        with client:
            time.sleep(0.3)  # a report or two: a crash loses only what its last report missed
            os.kill(stuck, signal.SIGKILL)
            assert client.recv(64) == b""  # its connection closed with it
        deadline = time.monotonic() + WAIT
        while len(workers_seen(int(port), 2) - {stuck}) < 2:  # restarted
            assert time.monotonic() < deadline
        process.send_signal(signal.SIGTERM)
        assert process.wait(WAIT) == 0
        report = final_report(process)
        wait_gone(first)
    assert "active=0" in report["counts"]
    assert "failed=1, refused=0, cut=0" in report["counts"]


def test_a_rolling_restart_whose_new_worker_dies_keeps_the_old_ones(tmp_path: object) -> None:
    marker = os.path.join(str(tmp_path), "no-more-binds")
    refusing = (
        "def server_bind(self):\n"
        f"        if os.path.exists({marker!r}):\n"
        "            raise OSError('this new worker cannot bind')\n"
        "        super().server_bind()"
    )
    source = supervisor("ThreadingServer", reuse_port=True, extra=refusing)
    with script_server(source) as (process, port):
        before = workers_seen(int(port), 2)
        open(marker, "w").close()
        process.send_signal(signal.SIGHUP)
        time.sleep(1.5)  # room for several restarts, had the failed one been rescheduled
        assert workers_seen(int(port), 2) == before  # the old workers serve on
        process.send_signal(signal.SIGTERM)
        assert process.wait(WAIT) == 0
        report = final_report(process)
        wait_gone(before)
    assert sorted(report["exits"].strip("[]").split(", ")) == ["0", "0", "1"]


DRAINS = """
import socket, threading, time
from sockserve.core import BaseRequestHandler
from sockserve.mixins import Prefork
from tests.mixins.conftest import ThreadingServer

class Slow(BaseRequestHandler):
    def handle(self):
        if self.request.recv(64) == b"slow":
            time.sleep(0.3)
        self.request.sendall(b"done")

def ask(word):
    deadline = time.monotonic() + 10
    while True:
        try:
            client = socket.create_connection(server.server_address, timeout=10)
            client.sendall(word)
            if word != b"slow":
                with client:
                    return client.recv(64)
            time.sleep(0.1)
            return client
        except ConnectionRefusedError:
            assert time.monotonic() < deadline
            time.sleep(0.02)

server = ThreadingServer(("127.0.0.1", 0), Slow)
with Prefork(server, workers=1, drain_timeout=10) as prefork:
    print("ready", flush=True)
    for slow in (True, False):
        supervising = threading.Thread(target=prefork.serve_forever)
        supervising.start()
        ask(b"hi")  # the worker serves: that request is over 0.3 s later
        time.sleep(0.3)
        held = ask(b"slow") if slow else None  # in flight when the drain begins
        print("drain", tuple(prefork.drain(5)), flush=True)
        supervising.join()
    print("total", tuple(prefork.drain_results()), flush=True)
"""


def test_drain_returns_what_this_drain_did_and_serving_can_start_again() -> None:
    with script_server(DRAINS) as (process, _):
        assert process.wait(WAIT * 2) == 0
        assert process.stdout is not None
        lines = process.stdout.read().splitlines()
    assert lines == ["drain (1, 0)", "drain (0, 0)", "total (1, 0)"]
