"""Run the sockserve benchmark suite: ``hatch run bench:run [options]``.

Starts every server variant in a process of its own, pinned to its own CPU,
drives it over loopback with a compiled load generator (``sockbench``, or
``wrk`` for HTTP), prints a table of medians with ratios against the stdlib
measured in the same run, and writes ``latest.json``, ``latest.md`` and
``latest.png`` to ``--out``. ``--smoke`` runs every workload briefly, once,
so that CI can prove the harness still works. See ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import trio

from harness import chart, report, variants, workloads
from harness.runner import Cell, Plan, run_workload

RESULTS = Path(__file__).resolve().parent / "results"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="every workload once, briefly")
    parser.add_argument("--rounds", type=int, help="runs per variant (default 3; smoke 1)")
    parser.add_argument("--duration", type=float, help="seconds of load per run (1.0; smoke 0.3)")
    parser.add_argument("--workloads", nargs="+", metavar="NAME", help="only these workloads")
    parser.add_argument("--variants", nargs="+", metavar="NAME", help="only these (and baselines)")
    parser.add_argument("--out", type=Path, help=f"results folder (default {RESULTS.name}/)")
    parser.add_argument("--no-pin", action="store_true", help="do not pin servers to a CPU")
    args = parser.parse_args(argv)
    args.rounds = args.rounds or (1 if args.smoke else 3)
    args.duration = args.duration or (0.3 if args.smoke else 1.0)
    args.out = args.out or (RESULTS / "smoke" if args.smoke else RESULTS)
    if args.rounds < 1 or args.duration < 0.1:
        parser.error(
            f"--rounds must be >= 1 and --duration >= 0.1, got {args.rounds}, {args.duration}"
        )
    try:
        args.workloads = workloads.select(_names(args.workloads))
        args.variants = variants.select(_names(args.variants))
    except ValueError as e:
        parser.error(str(e))
    if any(w.client == "http" for w in args.workloads) and shutil.which("wrk") is None:
        parser.error(
            "wrk is not installed: run benchmarks/setup.sh, or leave out --workloads http-16"
        )
    return args


def _names(given: list[str] | None) -> list[str] | None:
    """Names given as separate arguments, comma-separated, or both."""
    if given is None:
        return None
    return [name for arg in given for name in arg.split(",") if name]


def pin(no_pin: bool) -> tuple[set[int] | None, str]:
    """Keep the last CPU for the servers and the rest for this harness and its load generators."""
    cpus = sorted(os.sched_getaffinity(0))
    if no_pin or len(cpus) < 2:
        why = "--no-pin" if no_pin else "only one CPU"
        return None, f"not pinned ({why}): servers and load generator share {len(cpus)} CPU(s)"
    os.sched_setaffinity(0, set(cpus[:-1]))
    return {cpus[-1]}, f"servers on CPU {cpus[-1]}; load generator and harness on CPU {cpus[:-1]}"


def _cpu_model() -> str:
    with open("/proc/cpuinfo") as f:
        names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
    return f"{names[0] if names else platform.machine()} x {os.cpu_count()}"


def _commit() -> str:
    done = subprocess.run(
        ["git", "describe", "--always", "--dirty"], capture_output=True, text=True, check=False
    )
    return done.stdout.strip() or "unknown"


def meta(args: argparse.Namespace, pinning: str, argv: Sequence[str]) -> dict[str, object]:
    return {
        "command": shlex.join(["hatch", "run", "bench:run", *argv]),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": _commit(),
        "machine": f"{_cpu_model()}, Linux {platform.release()}",
        "python": f"CPython {platform.python_version()}, trio {trio.__version__}",
        "pinning": pinning,
        "runs": f"{args.rounds} per variant, {args.duration} s of load each; medians shown"
        + (" (SMOKE: not figures to quote)" if args.smoke else ""),
    }


def main(argv: Sequence[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    server_cpus, pinning = pin(args.no_pin)
    info = meta(args, pinning, argv)
    started = time.monotonic()
    cells: list[Cell] = []
    logs = args.out / "logs"
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="sockbench-") as workdir:
        shutdown_rounds = 2 if args.smoke else 5
        plan = Plan(args.rounds, args.duration, shutdown_rounds, Path(workdir), logs, server_cpus)
        for workload in args.workloads:
            chosen = workloads.smoke(workload) if args.smoke else workload
            cells += run_workload(chosen, args.variants, plan)
    info["wall time"] = f"{time.monotonic() - started:.0f} s"
    rows = report.rows(cells)
    print(report.text(rows, cells, info))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.json").write_text(json.dumps(report.as_json(rows, cells, info), indent=1))
    (args.out / "latest.md").write_text(report.markdown(rows, cells, info))
    chart.draw(rows, args.out / "latest.png", f"{info['date']}, {info['machine']}")
    print(f"wrote latest.json, latest.md and latest.png to {args.out}; server logs in {logs}")
    silent = [f"{r.workload}/{r.variant}" for r in rows if not (r.ops_s > 0 or r.p50_us > 0)]
    if silent:
        raise SystemExit(f"measured nothing for {', '.join(silent)}")


if __name__ == "__main__":
    main()
