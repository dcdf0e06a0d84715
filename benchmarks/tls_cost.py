"""What a TLS handshake costs per connection, on each model, beside raw trio and asyncio.

Run with ``hatch run bench:tls [--seconds S] [--rounds N]``. Each server runs
in a process of its own, pinned to the last CPU, with a certificate made for
the run (``trustme``); the client is ``openssl s_time -new`` pinned to the
others: a C client that opens connection after connection, each with a full
handshake (no session reuse), and closes it. Printed per server: TLS
connections per second, and the server's CPU time per connection (its whole
process tree, from ``/proc``), medians of the rounds. The stdlib has no TLS
server: its row is ``ThreadingTCPServer`` with the usual recipe, the socket
wrapped in ``get_request``, so the handshake runs in the accept loop.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from harness.procstat import TreeMonitor
from harness.servers import every_cpu

PREAMBLE = """
import os, socket, ssl, sys
context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(sys.argv[1])
"""

SOCKSERVE = (
    PREAMBLE
    + """
from sockserve.core import BaseRequestHandler
from sockserve.inet import TCPServer
from sockserve.mixins import ForkingMixIn, ThreadingMixIn, ThreadPoolMixIn
from sockserve.trio_backend import AsyncBaseRequestHandler, TrioMixIn
mixins = {{"sync": (), "threading": (ThreadingMixIn,), "pool": (ThreadPoolMixIn,),
          "forking": (ForkingMixIn,), "trio-sync": (TrioMixIn,), "trio": (TrioMixIn,)}}
Server = type("Server", (*mixins[{model!r}], TCPServer), {{"ssl_context": context}})
handler = AsyncBaseRequestHandler if {model!r} == "trio" else BaseRequestHandler
server = Server(("127.0.0.1", 0), handler)
print(server.server_address[1], flush=True)
server.serve_forever()
"""
)

STDLIB = (
    PREAMBLE
    + """
import socketserver
class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    def get_request(self):
        connection, address = self.socket.accept()
        return context.wrap_socket(connection, server_side=True), address
server = Server(("127.0.0.1", 0), socketserver.BaseRequestHandler)
print(server.server_address[1], flush=True)
server.serve_forever()
"""
)

TRIO = (
    PREAMBLE
    + """
import functools, trio
async def handle(stream):
    try:
        await stream.do_handshake()
    except trio.BrokenResourceError:
        pass
    await stream.aclose()
async def main():
    async with trio.open_nursery() as nursery:
        serve = functools.partial(trio.serve_ssl_over_tcp, host="127.0.0.1")
        listeners = await nursery.start(serve, handle, 0, context)
        print(listeners[0].transport_listener.socket.getsockname()[1], flush=True)
trio.run(main)
"""
)

ASYNCIO = (
    PREAMBLE
    + """
import asyncio
async def handle(reader, writer):
    writer.close()
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()
asyncio.run(main())
"""
)

SERVERS = {
    "stdlib-threading (wrap in get_request)": STDLIB,
    **{f"sockserve-{m}": SOCKSERVE.format(model=m) for m in
       ("sync", "threading", "pool", "forking", "trio-sync", "trio")},
    "trio (serve_ssl_over_tcp)": TRIO,
    "asyncio (start_server ssl=)": ASYNCIO,
}  # fmt: skip
_COUNT = re.compile(rb"(\d+) connections in [\d.]+s")


def measure(
    source: str, certificate: Path, seconds: float, cpus: tuple[set[int], set[int]]
) -> tuple[float, float]:
    """One run: TLS connections per second, and server CPU microseconds per connection."""
    server_cpus, client_cpus = cpus
    server = subprocess.Popen(
        [sys.executable, "-c", source, str(certificate)],
        stdout=subprocess.PIPE,
        preexec_fn=lambda: os.sched_setaffinity(0, server_cpus),
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        monitor = TreeMonitor(server.pid)
        load = ["-connect", f"127.0.0.1:{port}", "-new", "-time", str(int(seconds))]
        client = subprocess.Popen(
            ["openssl", "s_time", *load],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            preexec_fn=lambda: os.sched_setaffinity(0, client_cpus),
        )
        deadline = time.monotonic() + seconds + 30
        while client.poll() is None:
            if time.monotonic() > deadline:
                client.kill()
                raise RuntimeError("openssl s_time did not finish")
            monitor.poll()
            time.sleep(0.05)
        monitor.poll()
        assert client.stdout is not None
        found = _COUNT.search(client.stdout.read())
        if found is None:
            raise RuntimeError("openssl s_time printed no count")
        connections = int(found.group(1))
        return connections / seconds, monitor.cpu_s / max(connections, 1) * 1e6
    finally:
        server.kill()
        server.wait(30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="load per run (whole seconds)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("openssl") is None:
        print("openssl is not installed (apt-get install openssl)", file=sys.stderr)
        return 1
    import trustme

    cpus = sorted(every_cpu())
    split = ({cpus[-1]}, set(cpus[:-1]) or {cpus[-1]})
    with tempfile.TemporaryDirectory() as directory:
        certificate = Path(directory, "server.pem")
        issued = trustme.CA().issue_cert("127.0.0.1")
        issued.private_key_and_cert_chain_pem.write_to_path(str(certificate))
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in SERVERS}
        for _ in range(args.rounds):  # each round visits every server: noise falls on all alike
            for name, source in SERVERS.items():
                results[name].append(measure(source, certificate, args.seconds, split))
    baseline = statistics.median(rate for rate, _ in results["trio (serve_ssl_over_tcp)"])
    print(f"TLS connections (full handshakes), {args.rounds} x {args.seconds:g} s, medians")
    print(f"{'server':42} {'conns/s':>9} {'CPU/conn':>10} {'vs trio':>8}")
    for name, runs in results.items():
        rate = statistics.median(r for r, _ in runs)
        cost = statistics.median(c for _, c in runs)
        print(f"{name:42} {rate:9,.0f} {cost:8,.0f} µs {rate / baseline:7.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
