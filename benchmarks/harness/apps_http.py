"""``http.server``'s ``ThreadingHTTPServer``, on the stdlib's ``socketserver`` or on sockserve's.

For sockserve, ``sys.modules["socketserver"]`` is the drop-in before
``http.server`` is first imported, so the stdlib module runs unchanged on top
of sockserve. This must therefore be the first import of ``http.server`` in
the process: the server process imports nothing else that loads it.
"""

from __future__ import annotations

import sys
from typing import Any

from harness.apps_socketserver import Servable
from harness.targets import Address

BODY = b"Hello, world\n"


def build(impl: str, address: Address, model: str = "threading") -> Servable:
    """Bind a ``ThreadingHTTPServer`` answering every GET with `BODY`, kept alive.

    Other models (sockserve only) serve the same ``http.server`` classes:
    ``pool`` as ``class (ThreadPoolMixIn, HTTPServer)``, ``trio-sync`` as
    ``class (TrioMixIn, HTTPServer)`` with the handlers in trio worker threads.

    Raises:
        RuntimeError: ``http.server`` was already imported, so it cannot be re-based.
        ValueError: ``impl`` is neither ``stdlib`` nor ``sockserve``, ``address`` is a path,
            or ``model`` is not one of the three (or not the stdlib's threading).
    """
    if not isinstance(address, tuple):
        raise ValueError(f"http.server listens on TCP: want (host, port), got {address!r}")
    if "http.server" in sys.modules:
        raise RuntimeError("http.server was imported before its socketserver could be chosen")
    if impl == "sockserve":
        from sockserve import socketserver

        sys.modules["socketserver"] = socketserver
    elif impl != "stdlib":
        raise ValueError(f"impl must be 'stdlib' or 'sockserve', got {impl!r}")
    import http.server

    base = sys.modules["socketserver"].TCPServer
    if not issubclass(http.server.ThreadingHTTPServer, base):
        raise RuntimeError(f"ThreadingHTTPServer is not built on {base.__module__}")

    class Hello(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(BODY)))
            self.end_headers()
            self.wfile.write(BODY)

        def log_message(self, format: str, *args: Any) -> None:
            """Log nothing: a line per request to stderr would be what is measured."""

    if model == "threading":
        return http.server.ThreadingHTTPServer(address, Hello)
    if impl != "sockserve":
        raise ValueError(f"the {model!r} model is sockserve's: impl must be 'sockserve'")
    if model == "pool":
        from sockserve.mixins import ThreadPoolMixIn

        class PoolHTTPServer(ThreadPoolMixIn, http.server.HTTPServer):  # type: ignore[misc]  # typeshed's HTTPServer is the stdlib's
            """``http.server.HTTPServer`` on sockserve, on a pool of threads."""

            daemon_threads = True  # as ThreadingHTTPServer's

        return PoolHTTPServer(address, Hello)
    if model == "trio-sync":
        from sockserve.trio_backend import TrioMixIn

        class TrioHTTPServer(TrioMixIn, http.server.HTTPServer):  # type: ignore[misc]  # typeshed's HTTPServer is the stdlib's
            """``http.server.HTTPServer`` on sockserve, served by trio."""

        return TrioHTTPServer(address, Hello)
    raise ValueError(f"no http.server for model {model!r}")
