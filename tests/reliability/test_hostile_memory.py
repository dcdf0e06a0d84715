"""Memory under hostile input: an endless line cannot grow a server sockserve provides.

Each of sockserve's own line-reading handlers is sent a 32 MiB "line" with
no newline; the server's resident memory, read from ``/proc`` in its own
process, must stay within a few MiB of where it started, and the server
must then serve a polite client. The handlers: the echo handler (what
``sockserve echo`` serves), an async handler's ``receive_line``, and the
HTTP server over ``http.server``'s handlers (the stdlib's 64 KiB request
line limit, kept).
"""

from __future__ import annotations

import socket
import subprocess
import threading

import pytest

from tests.conftest import script_server

from .conftest import WAIT

HOSTILE = 32 * 1024 * 1024
#: Growth allowed: buffers and allocator slack, far below the hostile line.
GROWTH_ALLOWED = 8 * 1024 * 1024

SERVERS = {
    "echo": """
from sockserve.inet.echo import LineEcho
from sockserve.servers import ThreadPoolTCPServer
server = ThreadPoolTCPServer(("127.0.0.1", 0), LineEcho)
""",
    "async-lines": """
from sockserve.inet import TCPServer
from sockserve.trio_backend import AsyncStreamRequestHandler, TrioMixIn
class Lines(AsyncStreamRequestHandler):
    async def handle(self):
        while line := await self.receive_line():
            await self.send(line)
class Server(TrioMixIn, TCPServer):
    quiet_disconnects = True
server = Server(("127.0.0.1", 0), Lines)
""",
    "http": """
import http.server
from sockserve.servers import ThreadPoolHTTPServer
server = ThreadPoolHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
""",
}
SERVE = """
import sys
{server}
print(server.server_address[1], flush=True)
for line in sys.stdin:  # each line asks for the resident memory now
    with open("/proc/self/status") as status:
        rss = next(l for l in status if l.startswith("VmRSS:")).split()[1]
    print(int(rss) * 1024, flush=True)
"""
SERVE_IN_BACKGROUND = """
import threading
threading.Thread(target=server.serve_forever, daemon=True).start()
"""


def rss(process: subprocess.Popen[str]) -> int:
    assert process.stdin is not None
    assert process.stdout is not None
    process.stdin.write("rss?\n")
    process.stdin.flush()
    return int(process.stdout.readline())


def send_endless_line(port: int) -> None:
    """Send the hostile line while reading whatever comes back, until the server hangs up."""
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as client:
        reader = threading.Thread(target=drain, args=(client,), daemon=True)
        reader.start()
        chunk = b"x" * 65536
        try:
            for _ in range(HOSTILE // len(chunk)):
                client.sendall(chunk)
        except OSError:
            pass  # the server refused the line and hung up: as good as bounded
        reader.join(WAIT)


def drain(client: socket.socket) -> None:
    try:
        while client.recv(1 << 20):
            pass
    except OSError:
        pass


def polite(port: int, kind: str) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as client:
        client.sendall(b"GET / HTTP/1.0\r\n\r\n" if kind == "http" else b"hello\n")
        return client.makefile("rb").readline()


@pytest.mark.parametrize("kind", sorted(SERVERS))
def test_an_endless_line_does_not_grow_the_server(kind: str) -> None:
    source = SERVE.format(server=SERVERS[kind] + SERVE_IN_BACKGROUND)
    with script_server(source, stdin=True) as (process, announced):
        port = int(announced)
        assert polite(port, kind)  # warmed up: its first connection's memory is counted
        before = rss(process)
        send_endless_line(port)
        grown = rss(process) - before
        print(f"\n{kind}: grew {grown / 1024:.0f} KiB over a {HOSTILE >> 20} MiB line")
        assert grown < GROWTH_ALLOWED, f"grew {grown / 1024:.0f} KiB"
        reply = polite(port, kind)
        assert reply == (b"HTTP/1.0 200 OK\r\n" if kind == "http" else b"hello\n")
