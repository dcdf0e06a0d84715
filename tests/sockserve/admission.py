"""What the admission tests share: one server class per concurrency model, a TLS authority."""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Callable

import trustme

from sockserve.core import RequestCounts, StreamRequestHandler
from sockserve.inet import InetAddress, TCPServer
from sockserve.mixins import ForkingMixIn, ThreadingMixIn, ThreadPoolMixIn
from sockserve.trio_backend import AsyncStreamRequestHandler, TrioMixIn
from tests.conftest import WAIT


class SyncServer(TCPServer):
    pass


class ThreadingServer(ThreadingMixIn, TCPServer):
    daemon_threads = True


class PoolServer(ThreadPoolMixIn, TCPServer):
    pass


class ForkingServer(ForkingMixIn, TCPServer):
    pass


class TrioServer(TrioMixIn, TCPServer):
    pass


#: Every sync model, and the trio backend running sync handlers in threads.
MODELS: dict[str, type[TCPServer]] = {
    "sync": SyncServer,
    "threading": ThreadingServer,
    "pool": PoolServer,
    "forking": ForkingServer,
    "trio": TrioServer,
}
#: The models that serve several connections at once.
CONCURRENT = ["threading", "pool", "forking", "trio"]


class SaysWho(StreamRequestHandler):
    """Answers a line with the client address it sees, and the peer certificate's first name."""

    def handle(self) -> None:
        line = self.rfile.readline()
        certificate = getattr(self.request, "getpeercert", lambda: None)()
        names = [value for _kind, value in certificate["subjectAltName"]] if certificate else []
        reply = f"{line.decode().strip()} {self.client_address!r} {names[0] if names else None}\n"
        self.wfile.write(reply.encode())


class AsyncSaysWho(AsyncStreamRequestHandler):
    async def handle(self) -> None:
        line = await self.receive_line()
        await self.send(f"{line.decode().strip()} {self.client_address!r} None\n".encode())


def build(model: str, handler: Callable[..., object] = SaysWho, /, **settings: object) -> TCPServer:
    """A server of ``model`` on 127.0.0.1, with ``settings`` as its attributes.

    ``model`` "trio-async" is the trio backend with `AsyncSaysWho`.
    """
    if model == "trio-async":
        model, handler = "trio", AsyncSaysWho
    cls: type[TCPServer] = type(f"{model}Server", (MODELS[model],), dict(settings))
    return cls(("127.0.0.1", 0), handler)


class Authority:
    """A test CA (trustme), a server certificate for 127.0.0.1, and contexts for both ends."""

    def __init__(self) -> None:
        self.ca = trustme.CA()
        self.server_certificate = self.ca.issue_cert("127.0.0.1", "localhost")

    def server_context(self, *, require_client_certificate: bool = False) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.server_certificate.configure_cert(context)
        if require_client_certificate:
            context.verify_mode = ssl.CERT_REQUIRED
            self.ca.configure_trust(context)
        return context

    def client_context(self, client_name: str | None = None) -> ssl.SSLContext:
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        if client_name is not None:
            self.ca.issue_cert(client_name).configure_cert(context)
        return context


def ask_over_tls(address: InetAddress, context: ssl.SSLContext, line: bytes) -> str:
    with connect(address) as raw, context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        tls.sendall(line)
        return tls.makefile("rb").readline().decode()


def connect(address: InetAddress) -> socket.socket:
    """A client connection to an IPv4 ``address``."""
    return socket.create_connection((address[0], address[1]), timeout=WAIT)


def ask(address: InetAddress, line: bytes) -> str:
    with connect(address) as client:
        client.sendall(line)
        return client.makefile("rb").readline().decode()


def wait_for(server: TCPServer, done: Callable[[RequestCounts], bool]) -> RequestCounts:
    """Poll the counters until ``done`` holds: a worker ends its ticket after its reply."""
    deadline = time.monotonic() + WAIT
    while not done(counts := server.request_counts()):
        assert time.monotonic() < deadline, counts
        time.sleep(0.01)
    return counts
