"""The stdlib's ``socketserver`` serving the benchmark's handlers."""

from __future__ import annotations

import socketserver as stdlib

from harness.apps_socketserver import handlers_of, socketserver_servers

_HANDLERS = handlers_of(stdlib)

#: (model, transport) -> server class.
SERVERS = socketserver_servers(stdlib)


def handler(model: str, app: str) -> type:
    """The handler for ``app``: the same under every model."""
    return _HANDLERS[app]
