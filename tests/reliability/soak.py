"""A leak soak: many requests through each model; descriptors, threads, children, RSS after.

``hatch run test:soak [--requests N] [--clients C] [--models a,b]`` from the
project root.

Each model's server runs in a child process of its own (this module again,
with ``--serve MODEL``), so the figures are its own, summed over its worker
processes for prefork. The parent warms the server up (so that caches,
pools and lazily loaded modules are counted in the baseline), takes the
baseline, sends N requests from C client threads (connect, one line out, the
same line back, close; each bounded by a 10 s timeout), lets the server
settle, and takes the figures again. It prints a table, and exits 1 if a
figure is beyond its tolerance (`TOLERANCE`). ``tests/reliability/test_soak.py``
runs a short soak of every model in the suite.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from harness.procstat import open_fds, sample_tree

from .models import BY_NAME, MODELS, address_of, build

ROOT = Path(__file__).resolve().parent.parent.parent
REQUEST_TIMEOUT = 10.0
WARM_UP = 500
#: How long the server may take to return to its baseline after the last request.
SETTLE = 15.0


@dataclass(frozen=True)
class Figures:
    """What a server holds, summed over its process tree (a zombie counts as a child)."""

    descriptors: int
    threads: int
    children: int
    rss: int  # bytes

    @classmethod
    def of_tree(cls, pid: int) -> Figures:
        tree = sample_tree(pid)
        return cls(open_fds(tree.pids), tree.threads, len(tree.pids) - 1, tree.rss_bytes)


#: How far each figure may be from its baseline after the soak. Threads: a pool's
#: and trio's thread cache may keep a few idle threads a while. RSS: allocator slack.
TOLERANCE = Figures(descriptors=0, threads=4, children=0, rss=4 * 1024 * 1024)


def within_tolerance(before: Figures, after: Figures) -> bool:
    return (
        after.descriptors - before.descriptors <= TOLERANCE.descriptors
        and after.threads - before.threads <= TOLERANCE.threads
        and after.children - before.children <= TOLERANCE.children
        and after.rss - before.rss <= TOLERANCE.rss
    )


# -- the server, in the child process ---------------------------------------------------


def serve(model_name: str) -> None:
    """Serve ``model_name`` in the background; print the port; exit when stdin closes."""
    server = build(BY_NAME[model_name], quiet_disconnects=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(address_of(server)[1], flush=True)
    sys.stdin.read()  # until the parent is done
    server.drain(REQUEST_TIMEOUT)  # type: ignore[attr-defined]  # every model drains
    server.server_close()


# -- the client, in this process --------------------------------------------------------


def one_request(port: int, n: int) -> bool:
    line = b"%d\n" % n
    with socket.create_connection(("127.0.0.1", port), timeout=REQUEST_TIMEOUT) as client:
        client.sendall(line + b"quit\n")
        return client.makefile("rb").readline() == line


def load(port: int, requests: int, clients: int) -> tuple[int, float]:
    """Send ``requests`` requests from ``clients`` threads; return how many were answered right."""
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        answered = sum(pool.map(lambda n: one_request(port, n), range(requests)))
    return answered, time.monotonic() - started


def settled(pid: int, baseline: Figures) -> Figures:
    """The figures once they are back within tolerance, or after `SETTLE` seconds."""
    deadline = time.monotonic() + SETTLE
    while True:
        figures = Figures.of_tree(pid)
        if within_tolerance(baseline, figures) or time.monotonic() > deadline:
            return figures
        time.sleep(0.25)


@dataclass(frozen=True)
class Result:
    model: str
    answered: int
    requests: int
    seconds: float
    before: Figures
    after: Figures

    @property
    def ok(self) -> bool:
        return self.answered == self.requests and within_tolerance(self.before, self.after)


def soak(model_name: str, requests: int, clients: int) -> Result:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.soak", "--serve", model_name],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        load(port, WARM_UP, clients)
        time.sleep(0.5)
        before = Figures.of_tree(process.pid)
        answered, seconds = load(port, requests, clients)
        after = settled(process.pid, before)
        return Result(model_name, answered, requests, seconds, before, after)
    finally:
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(REQUEST_TIMEOUT * 2)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def table(results: Sequence[Result]) -> str:
    rows = [
        "model        requests    req/s  descriptors  threads  children  RSS MiB          ok",
    ]
    for r in results:
        b, a = r.before, r.after
        rows.append(
            f"{r.model:<11} {r.answered:>9,} {r.requests / r.seconds:>8,.0f}"
            f"  {b.descriptors:>4} → {a.descriptors:<4} {b.threads:>3} → {a.threads:<3}"
            f"  {b.children:>2} → {a.children:<2}"
            f"   {b.rss / 2**20:6.1f} → {a.rss / 2**20:6.1f}   {'yes' if r.ok else 'NO'}"
        )
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.reliability.soak")
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--models", default=",".join(model.name for model in MODELS))
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve)
        return 0
    results = []
    for name in args.models.split(","):
        results.append(soak(name, args.requests, args.clients))
        print(table(results[-1:]).splitlines()[-1], flush=True)
    print(table(results))
    print(json.dumps({r.model: r.ok for r in results}))
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
