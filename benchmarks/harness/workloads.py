"""What the load generator does to each server: one `Workload` per row group of the table."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from harness.targets import Transport

#: How the client drives the server: ``sockbench`` modes, ``wrk`` for HTTP, or the shutdown probe.
ClientKind = Literal["echo", "close", "udp", "http", "shutdown"]
#: What the server does per request; every server variant implements each one it serves.
App = Literal["echo", "once", "udp", "http", "shutdown", "cpu"]


@dataclass(frozen=True)
class Workload:
    """One workload.

    Attributes:
        name: Short key, used on the command line and in the JSON.
        title: What a reader of the table needs to know about it.
        client: How the load generator drives the server.
        app: The request handler the server runs.
        transport: The socket family and type the server listens on.
        conns: Concurrent connections (or UDP clients) of the load generator.
        idle: Seconds every connection stays open and idle before the measured phase.
        connect_timeout: The longest the load generator waits for all its connections.
    """

    name: str
    title: str
    client: ClientKind
    app: App
    transport: Transport
    conns: int = 1
    idle: float = 0.0
    connect_timeout: float = 10.0

    @property
    def persistent(self) -> bool:
        """Whether each connection carries many requests, so a server must serve them at once."""
        return self.client in ("echo", "http") and self.conns > 1

    @property
    def scale(self) -> bool:
        """Whether this is a scale run (many idle connections, then all active)."""
        return self.idle > 0


def _scale(conns: int) -> Workload:
    return Workload(
        f"scale-{conns}",
        f"TCP echo at scale: {conns:,} connections opened, idle 0.5 s, then all active",
        "echo",
        "echo",
        "tcp",
        conns,
        idle=0.5,
        connect_timeout=5.0,
    )


WORKLOADS: tuple[Workload, ...] = (
    Workload(
        "tcp-echo-1", "TCP echo, 64-byte lines, 1 persistent connection", "echo", "echo", "tcp"
    ),
    Workload(
        "tcp-echo-16",
        "TCP echo, 64-byte lines, 16 persistent connections",
        "echo",
        "echo",
        "tcp",
        16,
    ),
    Workload(
        "tcp-echo-256",
        "TCP echo, 64-byte lines, 256 persistent connections",
        "echo",
        "echo",
        "tcp",
        256,
    ),
    Workload(
        "tcp-close-16",
        "TCP connect, one line out and back, close; 16 concurrent clients",
        "close",
        "once",
        "tcp",
        16,
    ),
    Workload(
        "tcp-close-64",
        "TCP connect, one line out and back, close; 64 concurrent clients",
        "close",
        "once",
        "tcp",
        64,
    ),
    Workload("udp-echo-16", "UDP echo, 64-byte datagrams, 16 clients", "udp", "udp", "udp", 16),
    Workload(
        "unix-echo-16",
        "Unix-stream echo, 64-byte lines, 16 persistent connections",
        "echo",
        "echo",
        "unix",
        16,
    ),
    Workload(
        "http-16",
        "http.server GET, 13-byte body, HTTP/1.1 keep-alive, 16 connections (wrk)",
        "http",
        "http",
        "tcp",
        16,
    ),
    Workload(
        "cpu-16",
        "TCP echo with about 1 ms of pure-Python work per line, 16 persistent connections",
        "echo",
        "cpu",
        "tcp",
        16,
    ),
    _scale(1000),
    _scale(5000),
    _scale(10000),
    Workload(
        "shutdown",
        "shutdown() latency: serve_forever(poll_interval=0.5) to return",
        "shutdown",
        "shutdown",
        "tcp",
    ),
)


def smoke(workload: Workload) -> Workload:
    """The same workload made small enough to run in about a second per server."""
    if workload.scale:
        conns = workload.conns // 20
        title = f"{workload.title} (smoke: {conns:,} connections, idle 0.1 s)"
        return replace(workload, conns=conns, idle=0.1, title=title)
    return workload


def select(names: list[str] | None) -> tuple[Workload, ...]:
    """The workloads named, in suite order; all of them for ``None``.

    Raises:
        ValueError: A name is not a workload's.
    """
    if not names:
        return WORKLOADS
    known = {w.name for w in WORKLOADS}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown workload(s) {unknown}; choose from {sorted(known)}")
    return tuple(w for w in WORKLOADS if w.name in names)
