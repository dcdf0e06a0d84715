"""Driving the HTTP workload with ``wrk`` and reading its report."""

from __future__ import annotations

import math
import re
import shutil

_UNITS = {"us": 1.0, "ms": 1e3, "s": 1e6, "m": 60e6}


def command(url: str, conns: int, duration: float) -> list[str]:
    """The ``wrk`` command line: one thread, ``conns`` keep-alive connections, percentiles on.

    Raises:
        RuntimeError: ``wrk`` is not installed.
    """
    path = shutil.which("wrk")
    if path is None:
        raise RuntimeError("wrk is not installed (benchmarks/setup.sh installs it)")
    seconds = max(1, math.ceil(duration))  # wrk takes whole seconds
    return [path, "-t1", f"-c{conns}", f"-d{seconds}s", "--timeout", "2s", "--latency", url]


def _latency_us(text: str, label: str) -> float:
    match = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s|m)\s*$", text, re.MULTILINE)
    if match is None:
        raise ValueError(f"wrk's report has no {label} latency:\n{text}")
    return float(match[1]) * _UNITS[match[2]]


def parse(text: str) -> dict[str, float]:
    """Read ops, elapsed seconds, p50/p99 in microseconds and errors from ``wrk --latency``.

    Raises:
        ValueError: The text is not a complete ``wrk --latency`` report.
    """
    done = re.search(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m),", text, re.MULTILINE)
    if done is None:
        raise ValueError(f"wrk's report has no request count:\n{text}")
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", text))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return {
        "ops": float(done[1]),
        "elapsed_s": float(done[2]) * _UNITS[done[3]] / 1e6,
        "p50_us": _latency_us(text, "50%"),
        "p99_us": _latency_us(text, "99%"),
        "errors": float(errors + (int(bad[1]) if bad else 0)),
        "setup_s": 0.0,
    }
