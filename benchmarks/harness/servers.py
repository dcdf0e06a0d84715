"""Starting each benchmark server in a process of its own, pinned, and stopping it again."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from harness import native
from harness.procstat import open_fds, sample_tree
from harness.targets import HOST
from harness.variants import Variant
from harness.workloads import Workload

HARNESS_ROOT = Path(__file__).resolve().parent.parent
#: The longest a server may take to print where it listens.
START_TIMEOUT = 30.0
#: The longest a server may take to exit once told to.
STOP_TIMEOUT = 5.0
#: A server is idle once its tree uses under `IDLE_CPU` of a core over a window this long.
SETTLE_WINDOW = 0.1
IDLE_CPU = 0.15  # a 10 ms clock tick in the window is 10%
#: The longest a server may keep using CPU after a run.
SETTLE_TIMEOUT = 60.0
#: How long an idle server may keep a run's connections open before `settle` gives up on them.
FD_GRACE = 5.0


@dataclass
class Server:
    """A running server process and where it listens."""

    variant: Variant
    proc: subprocess.Popen[bytes]
    target: str
    log: Path
    #: Descriptors the idle server holds: a run is over for it when it is back to these.
    idle_fds: int = 0

    def tracebacks(self) -> int:
        """How many tracebacks the server (or its children) has written to its log so far."""
        return self.log.read_bytes().count(b"Traceback (most recent call last)")


def python_env() -> dict[str, str]:
    """This environment, with the harness importable as ``harness``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HARNESS_ROOT), env.get("PYTHONPATH")]))
    return env


def every_cpu() -> set[int]:
    """Every CPU of the machine (the harness itself runs pinned to fewer)."""
    return set(range(os.cpu_count() or 1))


def pinner(cpus: set[int] | None) -> Callable[[], None] | None:
    """A ``preexec_fn`` that pins the child to ``cpus`` (the harness is single-threaded)."""
    if cpus is None:
        return None
    return lambda: os.sched_setaffinity(0, cpus)


def _bind_spec(variant: Variant, workload: Workload, workdir: Path) -> str:
    if workload.transport == "unix":
        return f"unix:{workdir / (variant.name + '.sock')}"
    return f"{workload.transport}:{HOST}:0"


def _command(variant: Variant, workload: Workload, bind: str) -> list[str]:
    if variant.impl == "native":
        return [str(native.sockbench()), "server", workload.app, bind]
    module = "harness.server_main"
    return [sys.executable, "-m", module, variant.impl, variant.model, workload.app, bind]


def _first_line(stream: IO[bytes], proc: subprocess.Popen[bytes], log: Path) -> str:
    ready, _, _ = select.select([stream], [], [], START_TIMEOUT)
    line = stream.readline().decode().strip() if ready else ""
    if not line:
        proc.kill()
        proc.wait()
        raise RuntimeError(f"server {proc.args!r} did not start:\n{log.read_text()[-2000:]}")
    return line


def start(
    variant: Variant,
    workload: Workload,
    workdir: Path,
    cpus: set[int] | None,
    logs: Path | None = None,
) -> Server:
    """Start ``variant``'s server for ``workload``; return once it listens and is idle.

    Unix sockets go in ``workdir``; the server's stderr is appended to
    ``WORKLOAD.VARIANT.log`` in ``logs`` (default: ``workdir``). Blocks up to
    `START_TIMEOUT` seconds.

    Raises:
        RuntimeError: The server did not report an address in time (its log is
            included), or kept using CPU for `SETTLE_TIMEOUT` after it did.
    """
    log = (logs or workdir) / f"{workload.name}.{variant.name}.log"
    command = _command(variant, workload, _bind_spec(variant, workload, workdir))
    with log.open("ab") as log_file:  # a fresh server per round adds to it
        proc = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=log_file,
            env=python_env(),
            preexec_fn=pinner(every_cpu() if variant.every_core and cpus else cpus),
        )
    assert proc.stdout is not None
    server = Server(variant, proc, _first_line(proc.stdout, proc, log), log)
    try:
        _wait_idle(server, lambda fds: 0)
    except BaseException:
        stop(server)
        raise
    server.idle_fds = open_fds(sample_tree(proc.pid).pids)
    return server


@dataclass(frozen=True)
class Settled:
    """How a server wound down after a run.

    Attributes:
        waited_s: Seconds until it was idle.
        leftover_fds: Descriptors still open beyond its idle count (0: all closed).
    """

    waited_s: float
    leftover_fds: int


def settle(server: Server) -> Settled:
    """Wait until the server is idle again: no CPU use, every connection closed.

    A thread-per-connection server can take seconds after the load generator
    exits to end thousands of threads (printing a traceback for each
    connection the generator reset); the next run, pinned to the same CPU,
    would be measured against that work. A connection can also outlive its
    run, with the server idle: a handler blocked on a half-open connection,
    left by the SYNs a backlog of 5 drops. After `FD_GRACE` seconds of idle
    CPU this returns anyway and reports those descriptors, since an idle
    server disturbs no other run. Blocks up to `SETTLE_TIMEOUT`.

    Raises:
        RuntimeError: The server was still using CPU at the timeout.
    """
    return _wait_idle(server, lambda fds: max(0, fds - server.idle_fds))


def _wait_idle(server: Server, leftover: Callable[[int], int]) -> Settled:
    started = time.monotonic()
    idle_since: float | None = None
    before = sample_tree(server.proc.pid)
    while True:
        time.sleep(SETTLE_WINDOW)
        now = sample_tree(server.proc.pid)
        busy = (now.cpu_s - before.cpu_s) / SETTLE_WINDOW
        before, clock = now, time.monotonic()
        if busy < IDLE_CPU:
            idle_since = idle_since or clock
            left = leftover(open_fds(now.pids))
            if not left or clock - idle_since > FD_GRACE:
                return Settled(clock - started, left)
        else:
            idle_since = None
            if clock - started > SETTLE_TIMEOUT:
                raise RuntimeError(
                    f"{server.variant.name} still used {busy:.0%} of a CPU "
                    f"{SETTLE_TIMEOUT:.0f} s after its run"
                )


def stop(server: Server) -> None:
    """Stop the server and any children it still has, by PID; blocks up to `STOP_TIMEOUT`."""
    family = sample_tree(server.proc.pid).pids
    server.proc.send_signal(signal.SIGTERM)
    try:
        server.proc.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait()
    for pid in family[1:]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    if server.proc.stdout is not None:
        server.proc.stdout.close()
