"""The harness's parts: process-tree accounting, wrk's report, server lifecycles, selection."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import run

from harness import loads, report, servers, targets, variants, workloads, wrk
from harness.procstat import TreeMonitor, sample_tree
from harness.runner import Cell
from harness.samples import Sample
from harness.variants import VARIANTS, Variant

#: A parent that forks a child burning CPU for 0.3 s and then sleeps until killed.
FORKING_PARENT = """
import os, sys, time
pid = os.fork()
if pid == 0:
    end = time.process_time() + 0.3
    while time.process_time() < end:
        pass
    os._exit(0)
print(pid, flush=True)
time.sleep(30)
"""

#: A parent that forks 50 children, each burning 5 ms of CPU (under one clock tick)
#: and then sleeping until killed.
MANY_SMALL_CHILDREN = """
import os, sys, time
for _ in range(50):
    if os.fork() == 0:
        end = time.process_time() + 0.005
        while time.process_time() < end:
            pass
        time.sleep(30)
        os._exit(0)
print("forked", flush=True)
time.sleep(30)
"""

#: A process whose second thread burns 0.3 s of CPU and ends, then idles until killed.
THREAD_BURNS_AND_ENDS = """
import sys, threading, time
def burn():
    end = time.thread_time() + 0.3
    while time.thread_time() < end:
        pass
worker = threading.Thread(target=burn)
worker.start()
print("started", flush=True)
worker.join()
print("ended", flush=True)
time.sleep(30)
"""

#: Burns 0.6 s of CPU, then idles until killed.
BUSY_THEN_IDLE = """
import sys, time
print("busy", flush=True)
end = time.process_time() + 0.6
while time.process_time() < end:
    pass
time.sleep(30)
"""


def by_name(name: str) -> Variant:
    return next(v for v in VARIANTS if v.name == name)


def test_tree_includes_children_and_their_cpu_once_reaped() -> None:
    parent = subprocess.Popen([sys.executable, "-c", FORKING_PARENT], stdout=subprocess.PIPE)
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        monitor = TreeMonitor(parent.pid)
        assert set(monitor.first.pids) == {parent.pid, child}
        assert monitor.first.rss_bytes > 1_000_000
        deadline = time.monotonic() + 10
        while monitor.cpu_s < 0.2 and time.monotonic() < deadline:
            time.sleep(0.05)
            monitor.poll()
        assert monitor.cpu_s >= 0.2  # the child's burn, live or reaped, counts once
        assert monitor.cpu_s < 1.0
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        assert parent.stdout is not None
        parent.stdout.close()


def test_many_children_under_a_clock_tick_each_still_add_up() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", MANY_SMALL_CHILDREN], stdout=subprocess.PIPE, start_new_session=True
    )
    try:
        assert parent.stdout is not None
        assert parent.stdout.readline() == b"forked\n"
        time.sleep(0.5)  # every child has burnt its 5 ms by now
        sample = sample_tree(parent.pid)
        assert len(sample.pids) == 51
        # /proc/PID/stat alone would give 0 ticks for each child.
        assert sample.cpu_s >= 50 * 0.005
    finally:
        os.killpg(parent.pid, signal.SIGKILL)
        parent.wait()
        assert parent.stdout is not None
        parent.stdout.close()


def test_cpu_of_a_thread_that_ended_is_still_counted() -> None:
    proc = subprocess.Popen([sys.executable, "-c", THREAD_BURNS_AND_ENDS], stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"started\n"
        monitor = TreeMonitor(proc.pid)
        assert proc.stdout.readline() == b"ended\n"
        monitor.poll()  # one thread left: its own schedstat lacks the worker's 0.3 s
        assert monitor.cpu_s >= 0.2
    finally:
        proc.kill()
        proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()


def test_a_root_that_is_gone_reads_as_empty() -> None:
    beyond_any_pid = int(Path("/proc/sys/kernel/pid_max").read_text()) + 1
    sample = sample_tree(beyond_any_pid)
    assert sample.pids == ()
    assert sample.rss_bytes == 0


@pytest.mark.parametrize("name", ["stdlib-forking", "sockserve-forking"])
def test_stop_leaves_no_process_behind(tmp_path: Path, name: str) -> None:
    workload = workloads.select(["tcp-echo-16"])[0]
    server = servers.start(by_name(name), workload, tmp_path, None)
    try:
        sample = loads.run(workload, server, 0.3)
        _transport, address = targets.parse(server.target)
        assert isinstance(address, tuple)  # tcp-echo-16: a TCP address
        # A child that outlives the load: the others may be reaped as they exit.
        with socket.create_connection(address, timeout=5) as held:
            held.sendall(b"x\n")  # one line echoed: its child serves
            assert held.recv(1) == b"x"
            family = sample_tree(server.proc.pid).pids
    finally:
        servers.stop(server)
    assert sample.ops_s > 0
    assert sample.errors == 0
    assert sample.server_rss > 0
    assert len(family) > 1  # the server and its children
    deadline = time.monotonic() + 5  # killed orphans are reaped by init, not at once
    while any(Path(f"/proc/{pid}").exists() for pid in family) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in family if Path(f"/proc/{pid}").exists()]


def test_wrk_report_is_read_from_a_real_run(tmp_path: Path) -> None:
    if shutil.which("wrk") is None:
        pytest.skip("wrk is not installed (benchmarks/setup.sh installs it)")
    workload = workloads.select(["http-16"])[0]
    server = servers.start(by_name("calibration"), workload, tmp_path, None)
    try:
        sample = loads.run(workload, server, 1.0)
    finally:
        servers.stop(server)
    assert sample.ops_s > 100
    assert 0 < sample.p50_us <= sample.p99_us
    assert sample.errors == 0
    assert sample.gen_cpu > 0


def test_wrk_parse_refuses_a_truncated_report() -> None:
    with pytest.raises(ValueError, match="request count"):
        wrk.parse("Running 1s test @ http://127.0.0.1:1/\n")


def test_selection_names_the_bad_value() -> None:
    with pytest.raises(ValueError, match="no-such-load"):
        workloads.select(["tcp-echo-1", "no-such-load"])
    with pytest.raises(ValueError, match="no-such-server"):
        variants.select(["no-such-server"])


def test_selecting_a_variant_brings_its_baseline() -> None:
    chosen = [v.name for v in variants.select(["sockserve-threading", "trio"])]
    assert chosen == ["stdlib-threading", "sockserve-threading", "trio"]


def test_every_workload_has_a_baseline_and_a_sockserve_row() -> None:
    for workload in workloads.WORKLOADS:
        runnable = {v.name for v in VARIANTS if v.why_not(workload) is None}
        assert any(n.startswith("stdlib-") for n in runnable), workload.name
        assert any(n.startswith("sockserve-") for n in runnable), workload.name
        for name in runnable:
            baseline = by_name(name).baseline_for(workload)
            assert baseline is None or baseline in runnable, (workload.name, name)


def test_settle_waits_for_connections_to_close_then_reports_those_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workload = workloads.select(["tcp-echo-16"])[0]
    server = servers.start(by_name("sockserve-threading"), workload, tmp_path, None)
    try:
        host, port = server.target.removeprefix("tcp:").rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=5) as held:
            held.sendall(b"ping\n")
            assert held.recv(16) == b"ping\n"  # a handler thread now holds the connection
            monkeypatch.setattr(servers, "FD_GRACE", 0.5)
            held_open = servers.settle(server)
            assert held_open.leftover_fds == 1  # idle, but the connection is still open
            assert held_open.waited_s >= 0.5
        closed = servers.settle(server)
        assert closed.leftover_fds == 0
        assert closed.waited_s < 0.5
    finally:
        servers.stop(server)


@pytest.fixture
def busy_server(tmp_path: Path) -> Iterator[servers.Server]:
    """A process burning 0.6 s of CPU and then idling, posing as a server."""
    proc = subprocess.Popen([sys.executable, "-c", BUSY_THEN_IDLE], stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"busy\n"
        yield servers.Server(by_name("calibration"), proc, "tcp:127.0.0.1:1", tmp_path / "log")
    finally:
        proc.kill()
        proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()


def test_settle_waits_for_the_server_to_stop_using_cpu(busy_server: servers.Server) -> None:
    busy_server.idle_fds = 1000  # only the CPU criterion is under test here
    assert servers.settle(busy_server).waited_s >= 0.3  # the burn lasts 0.6 s of CPU time


def test_a_server_that_never_stops_using_cpu_fails_the_suite(
    busy_server: servers.Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(servers, "SETTLE_TIMEOUT", 0.2)
    with pytest.raises(RuntimeError, match="calibration still used"):
        servers.settle(busy_server)


def _row(
    gen_cpu: float, opened: int, conns: int, variant: str = "sockserve-threading"
) -> report.Row:
    sample = Sample(
        ops_s=1000.0,
        p50_us=100.0,
        p99_us=200.0,
        errors=0,
        server_cpu=0.5,
        server_rss=1,
        gen_cpu=gen_cpu,
        setup_s=2.5,
        opened=opened,
    )
    workload = workloads.select(["scale-1000"])[0]
    cell = Cell(replace(workload, conns=conns), by_name(variant), [sample])
    return report.rows([cell])[0]


def test_the_table_marks_rows_the_load_generator_may_have_capped() -> None:
    capped, free = _row(0.95, 10, 10), _row(0.5, 10, 10)
    assert report.cells_of(capped)[1] == "1,000*"
    assert report.cells_of(free)[1] == "1,000"
    ceiling = _row(0.95, 10, 10, "calibration")  # showing the generator's limit is its job
    assert report.cells_of(ceiling)[1] == "1,000"
    workload = workloads.select(["scale-1000"])[0]
    cell = Cell(workload, by_name("sockserve-threading"), list(capped.samples))
    markdown = report.markdown([capped], [cell], {})
    assert "| 1,000\\* |" in markdown  # escaped: Markdown shows the mark itself
    assert "\n- \\* the load generator used 90%" in markdown


def test_the_table_says_how_many_connections_opened_when_not_all_did() -> None:
    assert report.cells_of(_row(0.5, 7000, 10000))[8] == "7,000 of 10,000 in 2.50 s"
    assert report.cells_of(_row(0.5, 10000, 10000))[8] == "2.50 s"


def test_the_command_line_takes_names_spaced_or_comma_separated() -> None:
    args = run.parse_args(["--workloads", "tcp-echo-1,udp-echo-16", "unix-echo-16"])
    assert [w.name for w in args.workloads] == ["tcp-echo-1", "udp-echo-16", "unix-echo-16"]
    with pytest.raises(SystemExit):
        run.parse_args(["--variants", "trio,no-such-server"])


def test_a_runs_note_is_printed_under_its_workloads_table() -> None:
    row = _row(0.5, 10, 10)
    workload = workloads.select(["scale-1000"])[0]
    cell = Cell(workload, by_name("sockserve-threading"), list(row.samples), notes=["kept 1"])
    assert "\n- kept 1\n" in report.markdown([row], [cell], {})
    assert "\n  kept 1\n" in report.text([row], [cell], {})
