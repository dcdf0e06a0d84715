"""What a ``ForkingTCPServer`` request costs, stdlib against sockserve: rate, CPU and page faults.

Run with ``hatch run bench:fork [--requests N] [--rounds R]`` (default 2,000 requests,
3 rounds, alternating the two).

Each server runs in a child process of its own (``python -c``, the stdlib's
``socketserver`` or ``from sockserve import socketserver``, the same
one-line echo handler). This process is the client: N sequential
connect, one line out and back, close cycles on 127.0.0.1, each bounded by a
10 s timeout. The server then reports ``getrusage`` for itself (the parent,
which forks) and for its reaped children, and this prints, per request, the
rate, the CPU time in microseconds (user + system) and the minor page faults
of each side, with the medians and the ratio of the rates.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

IMPLEMENTATIONS = ("stdlib", "sockserve")
TIMEOUT = 10.0

SERVER = """
import resource, sys, threading
if sys.argv[1] == "stdlib":
    import socketserver
else:
    from sockserve import socketserver

class Echo(socketserver.StreamRequestHandler):
    def handle(self):
        self.wfile.write(self.rfile.readline())

server = socketserver.ForkingTCPServer(("127.0.0.1", 0), Echo)
print(server.server_address[1], flush=True)
threading.Thread(target=lambda: (sys.stdin.readline(), server.shutdown()), daemon=True).start()
server.serve_forever()
server.server_close()
for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
    usage = resource.getrusage(who)
    print(usage.ru_utime, usage.ru_stime, usage.ru_minflt, flush=True)
"""


@dataclass(frozen=True)
class Run:
    """One run's figures, per request: rate, and each side's CPU (µs) and page faults."""

    rate: float
    parent_cpu: float
    parent_faults: float
    children_cpu: float
    children_faults: float


def one_run(implementation: str, requests: int) -> Run:
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, implementation],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdin is not None
        assert server.stdout is not None
        port = int(server.stdout.readline())
        started = time.perf_counter()
        for _ in range(requests):
            with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as client:
                client.sendall(b"ping\n")
                client.recv(16)
        rate = requests / (time.perf_counter() - started)
        server.stdin.write("\n")
        server.stdin.flush()
        parent, children = ([float(f) for f in server.stdout.readline().split()] for _ in "pc")
        server.wait(TIMEOUT)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    per = 1e6 / requests
    return Run(
        rate,
        (parent[0] + parent[1]) * per,
        parent[2] / requests,
        (children[0] + children[1]) * per,
        children[2] / requests,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python benchmarks/fork_cost.py")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    runs: dict[str, list[Run]] = {name: [] for name in IMPLEMENTATIONS}
    for _ in range(args.rounds):
        for name in IMPLEMENTATIONS:
            runs[name].append(one_run(name, args.requests))
    print("server      req/s   parent µs  faults   children µs  faults   (medians per request)")
    for name, results in runs.items():

        def median(field: str, results: list[Run] = results) -> float:
            return statistics.median(float(getattr(run, field)) for run in results)

        print(
            f"{name:<10} {median('rate'):6.0f}   {median('parent_cpu'):9.0f}  "
            f"{median('parent_faults'):6.1f}   {median('children_cpu'):11.0f}  "
            f"{median('children_faults'):6.1f}"
        )
    ratio = statistics.median(r.rate for r in runs["sockserve"]) / statistics.median(
        r.rate for r in runs["stdlib"]
    )
    print(f"ratio (sockserve / stdlib requests per second): {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
