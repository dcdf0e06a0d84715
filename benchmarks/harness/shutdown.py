"""``shutdown()`` latency: how long ``serve_forever(poll_interval=0.5)`` takes to return.

The harness runs ``python -m harness.shutdown IMPL MODEL ROUNDS SEED`` in a
pinned process per variant and run. Each round starts a server with
``serve_forever(0.5)`` in a thread, lets it idle for a random part of the poll
interval (so that the stdlib's polling phase is sampled fairly), then times
``shutdown()``. The probe prints the seconds of each round as a JSON list.
"""

from __future__ import annotations

import json
import random
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Sequence

from harness.apps_socketserver import build
from harness.samples import Sample
from harness.servers import pinner, python_env
from harness.targets import HOST
from harness.variants import Variant

POLL_INTERVAL = 0.5
#: The longest one probe process may take, seconds.
PROBE_TIMEOUT = 120.0


def one_shutdown(impl: str, model: str, idle: float) -> float:
    """Seconds ``shutdown()`` took after ``idle`` seconds of ``serve_forever(POLL_INTERVAL)``."""
    server = build(impl, model, "echo", "tcp", (HOST, 0))
    thread = threading.Thread(target=server.serve_forever, args=(POLL_INTERVAL,))
    thread.start()
    time.sleep(idle)
    started = time.perf_counter()
    server.shutdown()
    elapsed = time.perf_counter() - started
    thread.join()
    server.server_close()
    return elapsed


def probe(impl: str, model: str, rounds: int, seed: int) -> list[float]:
    """``rounds`` shutdown latencies, seconds, with idle times drawn from ``seed``."""
    rng = random.Random(seed)
    return [one_shutdown(impl, model, 0.05 + rng.uniform(0, POLL_INTERVAL)) for _ in range(rounds)]


def measure(variant: Variant, rounds: int, seed: int, cpus: set[int] | None) -> Sample:
    """Run a pinned probe process for ``variant``; its figures as a `Sample`.

    Blocks for the probe, at most `PROBE_TIMEOUT` seconds.

    Raises:
        subprocess.CalledProcessError: The probe failed.
        subprocess.TimeoutExpired: The probe overran `PROBE_TIMEOUT` (it is killed).
    """
    args = [variant.impl, variant.model, str(rounds), str(seed)]
    done = subprocess.run(
        [sys.executable, "-m", "harness.shutdown", *args],
        capture_output=True,
        check=True,
        env=python_env(),
        preexec_fn=pinner(cpus),
        timeout=PROBE_TIMEOUT,
    )
    micros = sorted(s * 1e6 for s in json.loads(done.stdout))
    return Sample(
        ops_s=float("nan"),
        p50_us=statistics.median(micros),
        p99_us=micros[min(len(micros) - 1, int(0.99 * len(micros)))],
        errors=0,
        server_cpu=float("nan"),
        server_rss=0,
        gen_cpu=float("nan"),
        setup_s=0.0,
    )


def main(argv: Sequence[str]) -> None:
    """Print the probe's latencies for ``IMPL MODEL ROUNDS SEED``."""
    impl, model, rounds, seed = argv
    print(json.dumps(probe(impl, model, int(rounds), int(seed))))


if __name__ == "__main__":
    main(sys.argv[1:])
