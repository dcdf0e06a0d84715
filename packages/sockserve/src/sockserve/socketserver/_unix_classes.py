"""The drop-in's Unix-socket classes, loaded on first use by ``sockserve.socketserver``."""

from __future__ import annotations

import os
import sys

from sockserve.core import DatagramRequest, StreamRequest
from sockserve.unix import UnixAddress, UnixDatagramAddress
from sockserve.unix import UnixDatagramServer as UnixDatagramServer
from sockserve.unix import UnixStreamServer as UnixStreamServer

from ._classes import ThreadingMixIn

__all__ = [
    "ThreadingUnixDatagramServer",
    "ThreadingUnixStreamServer",
    "UnixDatagramServer",
    "UnixStreamServer",
]


class ThreadingUnixStreamServer(ThreadingMixIn[StreamRequest, UnixAddress], UnixStreamServer):
    """A `UnixStreamServer` that handles each connection in a new thread."""


class ThreadingUnixDatagramServer(
    ThreadingMixIn[DatagramRequest, UnixDatagramAddress], UnixDatagramServer
):
    """A `UnixDatagramServer` that handles each datagram in a new thread."""


# The stdlib gained these in 3.12; an older Python's __all__ lacks them.
if hasattr(os, "fork") and sys.version_info >= (3, 12):
    from ._classes import ForkingMixIn

    __all__ += ["ForkingUnixDatagramServer", "ForkingUnixStreamServer"]

    class ForkingUnixStreamServer(ForkingMixIn[StreamRequest, UnixAddress], UnixStreamServer):
        """A `UnixStreamServer` that handles each connection in a forked child."""

    class ForkingUnixDatagramServer(
        ForkingMixIn[DatagramRequest, UnixDatagramAddress], UnixDatagramServer
    ):
        """A `UnixDatagramServer` that handles each datagram in a forked child."""
