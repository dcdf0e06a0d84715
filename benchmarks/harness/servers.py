"""Starting each benchmark server in a process of its own, pinned, and stopping it again."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from harness import native
from harness.procstat import sample_tree
from harness.targets import HOST
from harness.variants import Variant
from harness.workloads import Workload

HARNESS_ROOT = Path(__file__).resolve().parent.parent
#: The longest a server may take to print where it listens.
START_TIMEOUT = 30.0
#: The longest a server may take to exit once told to.
STOP_TIMEOUT = 5.0


@dataclass
class Server:
    """A running server process and where it listens."""

    variant: Variant
    proc: subprocess.Popen[bytes]
    target: str
    log: Path

    def tracebacks(self) -> int:
        """How many tracebacks the server (or its children) has written to its log so far."""
        return self.log.read_bytes().count(b"Traceback (most recent call last)")


def python_env() -> dict[str, str]:
    """This environment, with the harness importable as ``harness``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HARNESS_ROOT), env.get("PYTHONPATH")]))
    return env


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


def start(variant: Variant, workload: Workload, workdir: Path, cpus: set[int] | None) -> Server:
    """Start ``variant``'s server for ``workload``; return once it listens.

    Blocks up to `START_TIMEOUT` seconds.

    Raises:
        RuntimeError: The server did not report an address in time (its log is included).
    """
    log = workdir / f"{workload.name}.{variant.name}.log"
    command = _command(variant, workload, _bind_spec(variant, workload, workdir))
    with log.open("wb") as log_file:
        proc = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=log_file,
            env=python_env(),
            preexec_fn=pinner(cpus),
        )
    assert proc.stdout is not None
    return Server(variant, proc, _first_line(proc.stdout, proc, log), log)


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
