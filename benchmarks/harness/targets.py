"""Address specs shared by the harness, its server processes and the C load generator.

A spec is ``tcp:HOST:PORT``, ``udp:HOST:PORT`` or ``unix:PATH``: the form
``sockbench`` reads, so one string names a server everywhere.
"""

from __future__ import annotations

import resource
import sys
from typing import Any, Literal, Protocol, TypeAlias

Transport = Literal["tcp", "udp", "unix"]
#: A bound or bindable address: ``(host, port)``, or a Unix path.
Address: TypeAlias = tuple[str, int] | str


class Bound(Protocol):
    """A socket of any library that can say where it is bound (the stdlib's, trio's)."""

    def getsockname(self) -> Any:
        """The address the socket is bound to."""


#: Every benchmark server listens on loopback only.
HOST = "127.0.0.1"


def parse(spec: str) -> tuple[Transport, Address]:
    """Split a spec into its transport and a socket address.

    Raises:
        ValueError: The spec is not one of the three forms, or not on loopback.
    """
    kind, _, rest = spec.partition(":")
    if kind == "unix" and rest:
        return "unix", rest
    if kind in ("tcp", "udp"):
        host, _, port = rest.rpartition(":")
        if host != HOST or not port.isdigit():
            raise ValueError(f"want {kind}:{HOST}:PORT, got {spec!r}")
        return ("tcp" if kind == "tcp" else "udp"), (host, int(port))
    raise ValueError(f"want tcp:HOST:PORT, udp:HOST:PORT or unix:PATH, got {spec!r}")


def of_socket(transport: Transport, sock: Bound) -> str:
    """The spec naming the address ``sock`` is bound to."""
    if transport == "unix":
        return f"unix:{sock.getsockname()}"
    host, port = sock.getsockname()[:2]
    return f"{transport}:{host}:{port}"


def announce(spec: str) -> None:
    """Tell the harness, on the first line of stdout, where this server listens."""
    sys.stdout.write(spec + "\n")
    sys.stdout.flush()


def raise_fd_limit() -> None:
    """Lift the soft open-files limit to the hard one: the scale run holds 10,000 sockets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
