"""Soak ``ThreadingTCPServer`` with many short connections: stdlib against sockserve.

Run with ``python benchmarks/thread_soak.py [--requests N | --smoke] [--max-seconds S]``.

Each implementation's server runs in a child process of its own (this script
again, with ``--server stdlib|sockserve``), so that its memory figures are its
own. The client runs in this parent process: N sequential
connect-send-receive-close cycles on 127.0.0.1 (one line out, the same line
back, then the server's end of the connection), each with a 10 s timeout,
stopping early once ``--max-seconds`` have passed. The child reports its RSS,
``threading.active_count()`` and the length of the server's ``_threads``
record when the server is up and again after the last request (before
closing); this parent prints them as a table.
"""

from __future__ import annotations

import argparse
import json
import resource
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

IMPLEMENTATIONS = ("stdlib", "sockserve")
HOST = "127.0.0.1"
#: The longest one request (connect, send, receive, close) may take.
REQUEST_TIMEOUT = 10.0
#: The longest the parent waits for a child to start or to finish.
CHILD_TIMEOUT = 60.0


class Servable(Protocol):
    """What the soak needs of a server: both ``ThreadingTCPServer`` classes have it."""

    def serve_forever(self, poll_interval: float = ...) -> None:
        """Handle requests until `shutdown`."""

    def shutdown(self) -> None:
        """Stop `serve_forever` and wait for it to return."""

    def server_close(self) -> None:
        """Close the socket and join the handler threads."""


# -- the server, in the child process -----------------------------------------------------------


def stdlib_server() -> tuple[Servable, int]:
    import socketserver

    class LineEcho(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            self.wfile.write(self.rfile.readline())

    server = socketserver.ThreadingTCPServer((HOST, 0), LineEcho)
    return server, server.server_address[1]


def sockserve_server() -> tuple[Servable, int]:
    from sockserve import socketserver

    class LineEcho(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            self.wfile.write(self.rfile.readline())

    server = socketserver.ThreadingTCPServer((HOST, 0), LineEcho)
    return server, server.server_address[1]


SERVERS: dict[str, Callable[[], tuple[Servable, int]]] = {
    "stdlib": stdlib_server,
    "sockserve": sockserve_server,
}


def current_rss_kib() -> int | None:
    """Return this process's resident set size in KiB (``VmRSS``), or None off Linux."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def peak_rss_kib() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak  # bytes on macOS, KiB elsewhere


def threads_record_length(server: Servable) -> int | None:
    """Return ``len(server._threads)``: 0 for the class-level no-op record, None if absent.

    Before its first request, the stdlib's server (3.7+) has only the class
    attribute ``_threads = _NoThreads()``, which records nothing and has no length.
    """
    threads: Any = getattr(server, "_threads", None)
    if threads is None:
        return None
    try:
        return len(threads)
    except TypeError:
        return 0


def snapshot(server: Servable) -> dict[str, Any]:
    return {
        "rss_kib": current_rss_kib(),
        "peak_rss_kib": peak_rss_kib(),
        "threads": threading.active_count(),
        "threads_record": threads_record_length(server),
    }


def run_server(implementation: str) -> None:
    """Serve until told on stdin that the client is done; report on stdout as JSON lines."""
    server, port = SERVERS[implementation]()
    # A daemon, so that an error in this thread ends the process instead of hanging it.
    serving = threading.Thread(target=server.serve_forever, name="serve_forever", daemon=True)
    serving.start()
    try:
        print(json.dumps({"port": port, "start": snapshot(server)}), flush=True)
        sys.stdin.readline()  # the parent writes a line (or closes stdin) after the last request
        end = snapshot(server)
    finally:
        server.shutdown()
        serving.join()
        server.server_close()
    print(json.dumps({"end": end}), flush=True)


# -- the client and the report, in the parent process -------------------------------------------


def one_request(port: int, index: int) -> bool:
    """Send one line on a new connection; return whether it came back intact.

    Reads until the server closes its end, so that the server, not this
    client, holds the TIME_WAIT state and the client's ports are not used up.
    """
    line = f"request {index}\n".encode()
    with socket.create_connection((HOST, port), timeout=REQUEST_TIMEOUT) as client:
        client.sendall(line)
        received = b""
        while chunk := client.recv(4096):
            received += chunk
    return received == line


@dataclass
class Result:
    """One implementation's soak: the client's counts and the server's two snapshots."""

    implementation: str
    requested: int
    done: int
    errors: int
    seconds: float
    start: dict[str, Any]
    end: dict[str, Any]


def soak(implementation: str, requests: int, max_seconds: float) -> Result:
    """Run ``requests`` requests against a server in a child process."""
    child = subprocess.Popen(
        [sys.executable, __file__, "--server", implementation],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    watchdog = threading.Timer(CHILD_TIMEOUT, child.kill)  # a child that never starts
    watchdog.start()
    try:
        first_line = child.stdout.readline()
    finally:
        watchdog.cancel()
    if not first_line:
        child.kill()
        child.wait()
        raise RuntimeError(f"the {implementation} server failed to start (see its stderr)")
    ready = json.loads(first_line)
    done = errors = 0
    started = time.perf_counter()
    for index in range(requests):
        if time.perf_counter() - started > max_seconds:
            break
        try:
            if not one_request(ready["port"], index):
                errors += 1
        except OSError:
            errors += 1
        done += 1
    seconds = time.perf_counter() - started
    try:
        out, _ = child.communicate("done\n", timeout=CHILD_TIMEOUT)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
        raise
    if child.returncode != 0:
        raise RuntimeError(f"the {implementation} server exited with status {child.returncode}")
    end = json.loads(out.splitlines()[-1])["end"]
    return Result(implementation, requests, done, errors, seconds, ready["start"], end)


def mib(kib: int | None) -> str:
    return "n/a" if kib is None else f"{kib / 1024:.1f}"


def report(results: Sequence[Result], max_seconds: float) -> None:
    print(
        f"ThreadingTCPServer soak on Python {sys.version.split()[0]}: each server in its own "
        "child process; client in the parent process, sequential "
        "connect-send-receive-close, one line echoed per connection"
    )
    header = (
        f"{'implementation':<14}{'requests':>10}{'errors':>8}{'seconds':>9}{'req/s':>9}"
        f"{'RSS start':>11}{'RSS end':>9}{'peak RSS':>10}{'threads':>10}{'_threads':>10}"
    )
    print(header)
    print(
        f"{'':<14}{'':>10}{'':>8}{'':>9}{'':>9}{'MiB':>11}{'MiB':>9}{'MiB':>10}"
        f"{'start/end':>10}{'at end':>10}"
    )
    for r in results:
        record = r.end["threads_record"]
        print(
            f"{r.implementation:<14}{r.done:>10}{r.errors:>8}{r.seconds:>9.1f}"
            f"{r.done / r.seconds:>9.0f}{mib(r.start['rss_kib']):>11}{mib(r.end['rss_kib']):>9}"
            f"{mib(r.end['peak_rss_kib']):>10}"
            f"{str(r.start['threads']) + '/' + str(r.end['threads']):>10}"
            f"{'n/a' if record is None else record:>10}"
        )
    for r in results:
        if r.done < r.requested:
            print(
                f"{r.implementation}: stopped after --max-seconds {max_seconds:g}: "
                f"{r.done} of {r.requested} requests done"
            )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=100_000, help="default: 100000")
    parser.add_argument("--smoke", action="store_true", help="a quick run: 2000 requests")
    parser.add_argument("--max-seconds", type=float, default=300.0, help="per implementation")
    parser.add_argument("--server", choices=IMPLEMENTATIONS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.server:
        run_server(args.server)
        return
    requests = 2_000 if args.smoke else args.requests
    results = [soak(name, requests, args.max_seconds) for name in IMPLEMENTATIONS]
    report(results, args.max_seconds)


if __name__ == "__main__":
    main()
