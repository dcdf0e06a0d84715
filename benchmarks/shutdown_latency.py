"""How long ``shutdown()`` takes to stop ``serve_forever()``: sockserve against the stdlib.

Run with ``hatch run bench:shutdown [--rounds N] [--poll-interval S]``. Each
round starts a server on 127.0.0.1 with ``serve_forever(poll_interval)`` in a
thread, lets it idle for a random part of the poll interval (so the stdlib's
polling phase is sampled fairly), then times ``shutdown()``. Rounds alternate
between the two implementations so that machine noise hits both alike.
Prints the median and the 90th percentile in milliseconds, and their ratio.
"""

from __future__ import annotations

import argparse
import random
import socketserver
import statistics
import threading
import time
from collections.abc import Callable, Sequence

from sockserve.core import StreamRequestHandler
from sockserve.inet import TCPServer

Server = socketserver.TCPServer | TCPServer


def stdlib_server() -> Server:
    return socketserver.TCPServer(("127.0.0.1", 0), socketserver.StreamRequestHandler)


def sockserve_server() -> Server:
    return TCPServer(("127.0.0.1", 0), StreamRequestHandler)


IMPLEMENTATIONS: dict[str, Callable[[], Server]] = {
    "stdlib socketserver": stdlib_server,
    "sockserve": sockserve_server,
}


def one_shutdown(make: Callable[[], Server], poll_interval: float, idle: float) -> float:
    """Return the seconds ``shutdown()`` took after ``idle`` seconds of serving."""
    with make() as server:
        thread = threading.Thread(target=server.serve_forever, args=(poll_interval,))
        thread.start()
        time.sleep(idle)
        started = time.perf_counter()
        server.shutdown()
        elapsed = time.perf_counter() - started
        thread.join()
    return elapsed


def measure(rounds: int, poll_interval: float, seed: int) -> dict[str, list[float]]:
    rng = random.Random(seed)
    samples: dict[str, list[float]] = {name: [] for name in IMPLEMENTATIONS}
    for _ in range(rounds):
        idle = 0.05 + rng.uniform(0, poll_interval)
        for name, make in IMPLEMENTATIONS.items():
            samples[name].append(one_shutdown(make, poll_interval, idle))
    return samples


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def report(samples: dict[str, list[float]], poll_interval: float) -> None:
    print(f"shutdown() latency, serve_forever({poll_interval}), TCPServer on loopback")
    print(f"{'implementation':<22}{'rounds':>8}{'median ms':>12}{'p90 ms':>10}")
    for name, values in samples.items():
        median = statistics.median(values) * 1000
        print(f"{name:<22}{len(values):>8}{median:>12.3f}{percentile(values, 0.9) * 1000:>10.3f}")
    ours = statistics.median(samples["sockserve"])
    theirs = statistics.median(samples["stdlib socketserver"])
    print(f"median ratio stdlib/sockserve: {theirs / ours:,.0f}x")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="rounds per implementation")
    parser.add_argument("--poll-interval", type=float, default=0.5, help="serve_forever's argument")
    parser.add_argument("--seed", type=int, default=1, help="seed for the idle times")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.poll_interval <= 0:
        parser.error("--rounds must be at least 1 and --poll-interval positive")
    report(measure(args.rounds, args.poll_interval, args.seed), args.poll_interval)


if __name__ == "__main__":
    main()
