"""sockserve.core: the typed core of sockserve.

The server protocols, `BaseServer`, the family-agnostic socket servers
(`StreamServer`, `DatagramServer`) that ``sockserve.inet`` and
``sockserve.unix`` build on, and the request handlers.
"""

from ._backoff import ACCEPT_CAPACITY_ERRNOS as ACCEPT_CAPACITY_ERRNOS
from ._base_server import BaseServer as BaseServer
from ._handlers import BaseRequestHandler as BaseRequestHandler
from ._handlers import DatagramRequestHandler as DatagramRequestHandler
from ._handlers import StreamRequestHandler as StreamRequestHandler
from ._protocols import RequestHandlerProtocol as RequestHandlerProtocol
from ._protocols import ServerLifecycleProtocol as ServerLifecycleProtocol
from ._protocols import ServerProtocol as ServerProtocol
from ._socket_server import DatagramServer as DatagramServer
from ._socket_server import SocketServer as SocketServer
from ._socket_server import StreamServer as StreamServer
from ._socket_writer import SocketWriter as SocketWriter
from ._types import AddressT as AddressT
from ._types import DatagramRequest as DatagramRequest
from ._types import RequestT as RequestT
from ._types import SocketAddress as SocketAddress
from ._types import StreamRequest as StreamRequest

__all__ = [
    "ACCEPT_CAPACITY_ERRNOS",
    "AddressT",
    "BaseRequestHandler",
    "BaseServer",
    "DatagramRequest",
    "DatagramRequestHandler",
    "DatagramServer",
    "RequestHandlerProtocol",
    "RequestT",
    "ServerLifecycleProtocol",
    "ServerProtocol",
    "SocketAddress",
    "SocketServer",
    "SocketWriter",
    "StreamRequest",
    "StreamRequestHandler",
    "StreamServer",
]
