"""Running a workload against every variant that can serve it, round after round."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from harness import loads, servers, shutdown
from harness.samples import Sample
from harness.variants import Variant
from harness.workloads import Workload


@dataclass
class Cell:
    """Every run of one variant under one workload, or why it was not run."""

    workload: Workload
    variant: Variant
    samples: list[Sample] = field(default_factory=list)
    skipped: str | None = None
    #: What a reader of the table should know about these runs.
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Plan:
    """How much to measure, and where.

    Attributes:
        rounds: Runs of each variant; the table shows their medians.
        duration: Seconds of measured load per run.
        shutdown_rounds: ``shutdown()`` timings per probe run.
        workdir: Where servers put Unix sockets.
        logs: Where each server's stderr goes, as ``WORKLOAD.VARIANT.log``.
        server_cpus: CPUs the servers are pinned to (``None``: not pinned).
    """

    rounds: int
    duration: float
    shutdown_rounds: int
    workdir: Path
    logs: Path
    server_cpus: set[int] | None


#: Winding down for longer than this is worth telling the user, seconds.
SLOW_SETTLE = 1.0


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_workload(workload: Workload, variants: tuple[Variant, ...], plan: Plan) -> list[Cell]:
    """Measure ``workload`` on each variant that serves it; rounds interleave the variants.

    Each round visits every variant once, so machine noise falls on all alike.
    """
    cells = [Cell(workload, v, skipped=v.why_not(workload)) for v in variants]
    active = [c for c in cells if c.skipped is None]
    if workload.client == "shutdown":
        _run_probes(active, plan)
    elif workload.scale:
        _run_fresh_servers(workload, active, plan)
    else:
        _run_shared_servers(workload, active, plan)
    return cells


def _run_probes(cells: list[Cell], plan: Plan) -> None:
    """``shutdown()`` latency: a probe process per variant and round."""
    for r in range(plan.rounds):
        _progress(f"shutdown: round {r + 1}/{plan.rounds}")
        for cell in cells:
            sample = shutdown.measure(cell.variant, plan.shutdown_rounds, r, plan.server_cpus)
            cell.samples.append(sample)


def _run_shared_servers(workload: Workload, cells: list[Cell], plan: Plan) -> None:
    """One server per variant for all rounds, left to wind down after each run.

    All servers are started first (an idle server costs nothing). After each
    run the server must be idle again (`servers.settle`), so that no run is
    measured against the previous one's leftovers.
    """
    running: list[servers.Server] = []
    try:
        for cell in cells:
            running.append(
                servers.start(cell.variant, workload, plan.workdir, plan.server_cpus, plan.logs)
            )
        for r in range(plan.rounds):
            _progress(f"{workload.name}: round {r + 1}/{plan.rounds}")
            for cell, server in zip(cells, running, strict=True):
                cell.samples.append(loads.run(workload, server, plan.duration))
                _note_wind_down(cell, r, servers.settle(server))
    finally:
        for server in running:
            servers.stop(server)


def _note_wind_down(cell: Cell, round_index: int, settled: servers.Settled) -> None:
    """Tell the user about a slow wind-down; keep connections left open as a note on the row."""
    name = cell.variant.name
    if settled.waited_s > SLOW_SETTLE:
        _progress(f"  {name} took {settled.waited_s:.1f} s to wind down its run")
    if settled.leftover_fds:
        note = (
            f"{name} still held {settled.leftover_fds} descriptor(s), idle, "
            f"{servers.FD_GRACE:.0f} s after run {round_index + 1}"
        )
        cell.notes.append(note)
        _progress(f"  {note}")


def _run_fresh_servers(workload: Workload, cells: list[Cell], plan: Plan) -> None:
    """A new server for every run, stopped right after it.

    For the scale runs: a thread-per-connection server left with thousands of
    threads can take a minute to wind them down (they queue for the GIL), and
    a fresh process per run keeps the rounds independent of each other.
    """
    for r in range(plan.rounds):
        _progress(f"{workload.name}: round {r + 1}/{plan.rounds}")
        for cell in cells:
            server = servers.start(
                cell.variant, workload, plan.workdir, plan.server_cpus, plan.logs
            )
            try:
                cell.samples.append(loads.run(workload, server, plan.duration))
            finally:
                servers.stop(server)
