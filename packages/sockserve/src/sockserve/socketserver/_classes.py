"""The drop-in's classes at run time: sockserve's own, assembled as the stdlib names them."""

from __future__ import annotations

import os
import socket
import sys

from sockserve.core import BaseRequestHandler as BaseRequestHandler
from sockserve.core import BaseServer as BaseServer
from sockserve.core import DatagramRequest, StreamRequest
from sockserve.core import DatagramRequestHandler as DatagramRequestHandler
from sockserve.core import StreamRequestHandler as StreamRequestHandler
from sockserve.inet import InetAddress
from sockserve.inet import TCPServer as TCPServer
from sockserve.inet import UDPServer as UDPServer
from sockserve.mixins import ThreadingMixIn as ThreadingMixIn

__all__ = [
    "BaseRequestHandler",
    "BaseServer",
    "DatagramRequestHandler",
    "StreamRequestHandler",
    "TCPServer",
    "ThreadingMixIn",
    "ThreadingTCPServer",
    "ThreadingUDPServer",
    "UDPServer",
]


class ThreadingTCPServer(ThreadingMixIn[StreamRequest, InetAddress], TCPServer):
    """A `TCPServer` that handles each connection in a new thread."""


class ThreadingUDPServer(ThreadingMixIn[DatagramRequest, InetAddress], UDPServer):
    """A `UDPServer` that handles each datagram in a new thread."""


if hasattr(os, "fork"):
    from sockserve.mixins import ForkingMixIn as ForkingMixIn

    __all__ += ["ForkingMixIn", "ForkingTCPServer", "ForkingUDPServer"]

    class ForkingTCPServer(ForkingMixIn[StreamRequest, InetAddress], TCPServer):
        """A `TCPServer` that handles each connection in a forked child."""

    class ForkingUDPServer(ForkingMixIn[DatagramRequest, InetAddress], UDPServer):
        """A `UDPServer` that handles each datagram in a forked child."""


# The Unix classes load on first use (`_unix_classes`): a program serving TCP
# never needs them, and every module loaded is memory a forked child copies.
UNIX_NAMES: list[str] = []
if hasattr(socket, "AF_UNIX"):
    UNIX_NAMES += [
        "ThreadingUnixDatagramServer",
        "ThreadingUnixStreamServer",
        "UnixDatagramServer",
        "UnixStreamServer",
    ]
    # The stdlib gained these in 3.12; an older Python's __all__ lacks them.
    if hasattr(os, "fork") and sys.version_info >= (3, 12):
        UNIX_NAMES += ["ForkingUnixDatagramServer", "ForkingUnixStreamServer"]
