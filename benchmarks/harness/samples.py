"""One measured run of one server under one workload."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sample:
    """The figures of one run.

    Attributes:
        ops_s: Completed operations per second (NaN where throughput means nothing).
        p50_us: Median operation latency, microseconds.
        p99_us: 99th-percentile operation latency, microseconds.
        errors: Failed connects, resets, wrong bytes, stalled operations, lost
            datagrams and tracebacks the server printed.
        server_cpu: Server tree CPU time over the run's wall time (1.0 = one core).
        server_rss: Peak resident memory of the server tree, bytes.
        gen_cpu: Load generator CPU time over the run's wall time (1.0 = one core).
        setup_s: Seconds the load generator took to open its connections.
        opened: Persistent connections open when the measured phase began
            (0 for workloads without them).
    """

    ops_s: float
    p50_us: float
    p99_us: float
    errors: int
    server_cpu: float
    server_rss: int
    gen_cpu: float
    setup_s: float
    opened: int = 0
