"""Where to listen: ``--tcp``/``--udp HOST:PORT``, ``--unix PATH``, ``--fd N``, ``--systemd``."""

from __future__ import annotations

import argparse
import socket
from dataclasses import dataclass

from sockserve.inet import host_and_port

from ._errors import UsageError

__all__ = ["Listen", "describe", "parse_address"]

#: Where a server listens when no option says: loopback, as ``http.server`` does not.
DEFAULT = ("127.0.0.1", 8000)


@dataclass(frozen=True)
class Listen:
    """One place to listen.

    Attributes:
        kind: ``"tcp"``, ``"udp"``, ``"unix"``, ``"fd"`` or ``"systemd"``.
        address: ``(host, port)``, a path, a descriptor number, or a systemd
            socket name (None: the only one).
    """

    kind: str
    address: object

    @property
    def is_datagram(self) -> bool:
        """Whether requests are datagrams here (known only after adopting, for fd and systemd)."""
        return self.kind == "udp"


def parse_address(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:8000`` for IPv6) as a socket address.

    Raises:
        argparse.ArgumentTypeError: Not of that form, or the port is out of range.
    """
    host, colon, port = text.rpartition(":")
    if not colon or not port.isdigit() or int(port) > 65535:
        raise argparse.ArgumentTypeError(f"want HOST:PORT (0 <= PORT <= 65535), got {text!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port)


def describe(sock: socket.socket) -> str:
    """Where ``sock`` listens, for the start-up line: ``tcp 127.0.0.1:8000``."""
    address = sock.getsockname()
    transport = "udp" if sock.type == socket.SOCK_DGRAM else "tcp"
    if isinstance(address, tuple):
        host, port = address[:2]
        return f"{transport} {host_and_port(host, port)}"
    name = address.decode() if isinstance(address, bytes) else address
    return f"unix {name or '(unnamed)'}"


def check(listens: list[Listen], model: str) -> list[Listen]:
    """The places to listen, the default if none; one only for prefork.

    Raises:
        UsageError: Several places with ``prefork``.
    """
    if not listens:
        listens = [Listen("tcp", DEFAULT)]
    if model == "prefork" and len(listens) > 1:
        raise UsageError("--model prefork serves one socket; give one --tcp, --udp or --unix")
    return listens
