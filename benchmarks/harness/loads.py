"""Running the load generator against one server and turning its report into a `Sample`."""

from __future__ import annotations

import json
import os
import select
import subprocess
import time

from harness import native, wrk
from harness.procstat import TreeMonitor
from harness.samples import Sample
from harness.servers import Server
from harness.workloads import Workload

#: How often the server's tree is read while the load runs, seconds.
POLL_INTERVAL = 0.05
#: An operation outstanding this long at the end of the run counts as an error, seconds.
OP_TIMEOUT = 1.0


def command(workload: Workload, target: str, duration: float) -> list[str]:
    """The load generator's command line for ``workload`` against ``target``."""
    if workload.client == "http":
        return wrk.command(f"http://{target.removeprefix('tcp:')}/", workload.conns, duration)
    return [
        str(native.sockbench()),
        "client",
        workload.client,
        target,
        *("--conns", str(workload.conns), "--duration", str(duration)),
        *("--idle", str(workload.idle), "--connect-timeout", str(workload.connect_timeout)),
        *("--op-timeout", str(OP_TIMEOUT if workload.client != "udp" else 0.2)),
    ]


def _report(workload: Workload, stdout: str) -> dict[str, float]:
    if workload.client == "http":
        return wrk.parse(stdout)
    raw = json.loads(stdout.splitlines()[-1])
    return {**raw, "errors": raw["errors"] + raw["connect_errors"] + raw["stalled"]}


class _Phases:
    """Follows the load generator's output; reads the server over the measured phase only.

    ``sockbench`` prints ``active`` and ``done`` as its measured phase starts and
    ends. ``wrk`` prints neither, so its whole run is the measured phase.
    """

    def __init__(self, server: Server, marked: bool) -> None:
        self.server = server
        self.monitor = TreeMonitor(server.proc.pid)
        self.peak_rss = self.monitor.peak_rss
        self.started = self.ended = time.monotonic()
        self.cpu_s = 0.0
        self.state = "before" if marked else "active"
        self.tracebacks = 0  # read from the server's log as the measured phase starts
        self.output = b""

    def feed(self, chunk: bytes) -> None:
        self.output += chunk
        for line in chunk.decode().split():
            if line == "active" and self.state == "before":
                self.monitor = TreeMonitor(self.server.proc.pid)
                self.started, self.state = time.monotonic(), "active"
                self.tracebacks = self.server.tracebacks()
            elif line == "done" and self.state == "active":
                self.finish()
                self.tracebacks = self.server.tracebacks() - self.tracebacks
                self.state = "after"

    def poll(self) -> None:
        self.monitor.poll()
        self.peak_rss = max(self.peak_rss, self.monitor.peak_rss)

    def finish(self) -> None:
        self.poll()
        self.cpu_s, self.ended = self.monitor.cpu_s, time.monotonic()


def _wait(proc: subprocess.Popen[bytes], phases: _Phases, limit: float) -> tuple[int, float]:
    """Reap ``proc`` while feeding ``phases``; its exit status and CPU seconds."""
    assert proc.stdout is not None
    deadline = time.monotonic() + limit
    while True:
        if select.select([proc.stdout], [], [], POLL_INTERVAL)[0]:
            phases.feed(os.read(proc.stdout.fileno(), 65536))
        phases.poll()
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            phases.feed(proc.stdout.read())
            return os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime
        if time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            raise RuntimeError(f"load generator overran {limit:.0f} s: {proc.args!r}")


def run(workload: Workload, server: Server, duration: float) -> Sample:
    """Drive ``server`` with ``workload`` for ``duration`` seconds of measured load.

    Blocks for the run: the measured phase plus the connect and idle phases, and
    never longer than their bounds plus 15 s, after which the client is killed.

    Raises:
        RuntimeError: The load generator failed or overran its bound.
    """
    limit = duration + workload.idle + workload.connect_timeout + 2 * OP_TIMEOUT + 15
    marked = workload.client != "http"
    phases = _Phases(server, marked)
    proc = subprocess.Popen(
        command(workload, server.target, duration), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    with proc:
        code, gen_cpu_s = _wait(proc, phases, limit)
        proc.returncode = code
        assert proc.stderr is not None
        stderr = proc.stderr.read().decode()
    if code != 0 or phases.state == "before":
        raise RuntimeError(f"load generator failed ({code}): {proc.args!r}\n{stderr}")
    if not marked:
        phases.finish()
        phases.tracebacks = 0  # wrk aborts its connections as it stops: not errors of the load
    report = _report(workload, phases.output.decode())
    wall = phases.ended - phases.started
    return Sample(
        ops_s=report["ops"] / report["elapsed_s"],
        p50_us=report["p50_us"],
        p99_us=report["p99_us"],
        errors=int(report["errors"]) + phases.tracebacks,
        server_cpu=phases.cpu_s / wall,
        server_rss=phases.peak_rss,
        gen_cpu=report.get("cpu_s", gen_cpu_s) / (report["elapsed_s"] if marked else wall),
        setup_s=report["setup_s"],
        opened=int(report.get("opened", 0)),
    )
