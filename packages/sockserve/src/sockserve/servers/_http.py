"""HTTP servers on any sockserve model: what ``http.server.HTTPServer`` adds to a TCP server."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any, TypeAlias

from sockserve.core import StreamRequest
from sockserve.inet import InetAddress, TCPServer
from sockserve.mixins import ForkingMixIn, ThreadingMixIn, ThreadPoolMixIn

__all__ = [
    "ForkingHTTPServer",
    "HTTPHandlerFactory",
    "HTTPServer",
    "ThreadPoolHTTPServer",
    "ThreadingHTTPServer",
]

#: What an HTTP server calls per connection. Loose on purpose: typeshed types
#: ``http.server``'s handlers as taking the stdlib's own ``BaseServer``, which
#: no sockserve server is (sockserve reimplements it), so ``Any`` lets them in.
HTTPHandlerFactory: TypeAlias = Callable[[StreamRequest, Any, Any], object]  # type: ignore[explicit-any]


class HTTPServer(TCPServer):
    """A `TCPServer` for ``http.server``'s handlers, as ``http.server.HTTPServer`` is.

    It records ``server_name`` (the host's fully qualified name) and
    ``server_port`` when it binds (or adopts a socket), which handlers and
    ``wsgiref`` read, and allows address reuse. Any handler built on
    ``http.server.BaseHTTPRequestHandler`` works, ``SimpleHTTPRequestHandler``
    among them (``functools.partial(SimpleHTTPRequestHandler, directory=...)``
    serves a directory). Join it to another model as to a `TCPServer`:
    ``class Server(TrioMixIn, HTTPServer)``, or ``Prefork(ThreadPoolHTTPServer(...))``.

    Attributes:
        server_name: ``socket.getfqdn()`` of the bound host.
        server_port: The bound port.
    """

    allow_reuse_address = True
    server_name: str
    server_port: int

    def __init__(
        self,
        server_address: InetAddress,
        RequestHandlerClass: HTTPHandlerFactory,
        bind_and_activate: bool = True,
    ) -> None:
        """Bind and listen on ``server_address`` (unless not ``bind_and_activate``).

        Raises:
            OSError: The address cannot be bound.
        """
        super().__init__(server_address, RequestHandlerClass, bind_and_activate)

    def server_bind(self) -> None:
        """Bind as a `TCPServer` does, then record `server_name` and `server_port`.

        Raises:
            OSError: The address cannot be bound.
        """
        super().server_bind()
        self._record_name()

    def server_activate(self) -> None:
        """Listen; a server built on a socket made elsewhere records its name here."""
        if not hasattr(self, "server_port"):
            self._record_name()
        super().server_activate()

    def _record_name(self) -> None:
        host, port = self.server_address[:2]
        self.server_name = socket.getfqdn(host)
        self.server_port = port


class ThreadingHTTPServer(ThreadingMixIn[StreamRequest, InetAddress], HTTPServer):
    """An `HTTPServer` with a thread per connection, as ``http.server.ThreadingHTTPServer``."""

    daemon_threads = True


class ThreadPoolHTTPServer(ThreadPoolMixIn[StreamRequest, InetAddress], HTTPServer):
    """An `HTTPServer` on a bounded pool of threads (keep-alive connections hold a worker)."""


class ForkingHTTPServer(ForkingMixIn[StreamRequest, InetAddress], HTTPServer):
    """An `HTTPServer` with a child process per connection."""
