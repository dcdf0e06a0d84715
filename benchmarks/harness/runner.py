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


@dataclass(frozen=True)
class Plan:
    """How much to measure, and where.

    Attributes:
        rounds: Runs of each variant; the table shows their medians.
        duration: Seconds of measured load per run.
        shutdown_rounds: ``shutdown()`` timings per probe run.
        workdir: Where servers put Unix sockets and logs.
        server_cpus: CPUs the servers are pinned to (``None``: not pinned).
    """

    rounds: int
    duration: float
    shutdown_rounds: int
    workdir: Path
    server_cpus: set[int] | None


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_workload(workload: Workload, variants: tuple[Variant, ...], plan: Plan) -> list[Cell]:
    """Measure ``workload`` on each variant that serves it; rounds interleave the variants.

    All its servers are started first (an idle server costs nothing) so each
    round visits every variant once, and machine noise falls on all alike.
    """
    cells = [Cell(workload, v, skipped=v.why_not(workload)) for v in variants]
    active = [c for c in cells if c.skipped is None]
    if workload.client == "shutdown":
        for r in range(plan.rounds):
            _progress(f"{workload.name}: round {r + 1}/{plan.rounds}")
            for cell in active:
                cell.samples.append(
                    shutdown.measure(cell.variant, plan.shutdown_rounds, r, plan.server_cpus)
                )
        return cells
    running: list[servers.Server] = []
    try:
        for cell in active:
            running.append(servers.start(cell.variant, workload, plan.workdir, plan.server_cpus))
        for r in range(plan.rounds):
            _progress(f"{workload.name}: round {r + 1}/{plan.rounds}")
            for cell, server in zip(active, running, strict=True):
                cell.samples.append(loads.run(workload, server, plan.duration))
    finally:
        for server in running:
            servers.stop(server)
    return cells
