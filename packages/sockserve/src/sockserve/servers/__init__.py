"""Ready-made servers: each sockserve concurrency model joined with each family.

The drop-in (``sockserve.socketserver``) holds exactly the stdlib's names;
the combinations the stdlib lacks live here, typed precisely, and HTTP
servers for ``http.server``'s handlers on every model (`HTTPServer`,
`ThreadingHTTPServer`, `ThreadPoolHTTPServer`, `ForkingHTTPServer`)::

    from sockserve.servers import ThreadPoolTCPServer

    with ThreadPoolTCPServer(("127.0.0.1", 8000), Handler) as server:
        server.serve_forever()
"""

from __future__ import annotations

import socket

from sockserve.core import DatagramRequest, StreamRequest
from sockserve.inet import InetAddress, TCPServer, UDPServer
from sockserve.mixins import ThreadPoolMixIn

from ._http import ForkingHTTPServer as ForkingHTTPServer
from ._http import HTTPServer as HTTPServer
from ._http import ThreadingHTTPServer as ThreadingHTTPServer
from ._http import ThreadPoolHTTPServer as ThreadPoolHTTPServer

__all__ = [
    "ForkingHTTPServer",
    "HTTPServer",
    "ThreadPoolHTTPServer",
    "ThreadPoolTCPServer",
    "ThreadPoolUDPServer",
    "ThreadingHTTPServer",
]


class ThreadPoolTCPServer(ThreadPoolMixIn[StreamRequest, InetAddress], TCPServer):
    """A `TCPServer` that handles connections on a bounded pool of threads."""


class ThreadPoolUDPServer(ThreadPoolMixIn[DatagramRequest, InetAddress], UDPServer):
    """A `UDPServer` that handles datagrams on a bounded pool of threads."""


if hasattr(socket, "AF_UNIX"):
    from sockserve.unix import (
        UnixAddress,
        UnixDatagramAddress,
        UnixDatagramServer,
        UnixStreamServer,
    )

    __all__ += ["ThreadPoolUnixDatagramServer", "ThreadPoolUnixStreamServer"]

    class ThreadPoolUnixStreamServer(ThreadPoolMixIn[StreamRequest, UnixAddress], UnixStreamServer):
        """A `UnixStreamServer` that handles connections on a bounded pool of threads."""

    class ThreadPoolUnixDatagramServer(
        ThreadPoolMixIn[DatagramRequest, UnixDatagramAddress], UnixDatagramServer
    ):
        """A `UnixDatagramServer` that handles datagrams on a bounded pool of threads."""
