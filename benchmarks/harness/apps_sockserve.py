"""sockserve's drop-in and its other sync models serving the benchmark's handlers."""

from __future__ import annotations

from harness.apps_socketserver import handlers_of, socketserver_servers, with_room
from sockserve import servers
from sockserve import socketserver as ours

_HANDLERS = handlers_of(ours)

#: (model, transport) -> server class.
SERVERS = socketserver_servers(ours) | {
    # A thread for each connection of the 256-connection rows; UDP keeps its default pool.
    ("pool", "tcp"): with_room(servers.ThreadPoolTCPServer, "pool_size"),
    ("pool", "udp"): servers.ThreadPoolUDPServer,
    ("pool", "unix"): with_room(servers.ThreadPoolUnixStreamServer, "pool_size"),
    ("prefork", "tcp"): ours.ThreadingTCPServer,  # each worker's: see harness.server_main
}


def handler(model: str, app: str) -> type:
    """The handler for ``app``: the same under every model."""
    return _HANDLERS[app]
