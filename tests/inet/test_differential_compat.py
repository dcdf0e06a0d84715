# mypy: allow-subclassing-any
"""Stdlib servers built on socketserver rely on its non-cooperative ``__init__``."""

from __future__ import annotations

import xmlrpc.server
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.inet.conftest import Flavour


def dispatching_server(flavour: Flavour) -> type[Any]:
    """SimpleXMLRPCServer's shape: the dispatcher after the server in the MRO."""
    base: Any = flavour.TCPServer

    class Server(base, xmlrpc.server.SimpleXMLRPCDispatcher):
        def __init__(self, server_address: Any, handler: type[Any]) -> None:
            xmlrpc.server.SimpleXMLRPCDispatcher.__init__(self, allow_none=True, encoding="latin-1")
            base.__init__(self, server_address, handler)

    return Server


def test_tcp_server_init_keeps_the_dispatcher_settings(flavour: Flavour) -> None:
    """A cooperative __init__ would re-run the dispatcher's with its defaults."""
    with dispatching_server(flavour)(("127.0.0.1", 0), flavour.StreamRequestHandler) as server:
        assert server.allow_none is True
        assert server.encoding == "latin-1"
        assert server.socket.getsockname() == server.server_address
