"""sockserve.core: the typed core of sockserve.

The server protocols, `BaseServer`, the steps that admit a connection
(`ProxyProtocol`, `NetworkAccess`, TLS from an ``ssl_context``), the family-agnostic socket servers
(`StreamServer`, `DatagramServer`) that ``sockserve.inet`` and
``sockserve.unix`` build on, the request handlers, and the pieces every
concurrency model shares: the steps of a request in its worker
(`serve_request`) and the ledger of every request, which the live counters
(`RequestCounts`) and a graceful drain (`DrainResult`) read.
"""

from collections.abc import Callable

from ._accept import accept_connection as accept_connection
from ._admission import check_access as check_access
from ._admission import log_refusal as log_refusal
from ._admission import stream_socket as stream_socket
from ._backoff import ACCEPT_CAPACITY_ERRNOS as ACCEPT_CAPACITY_ERRNOS
from ._backoff import AcceptBackoff as AcceptBackoff
from ._base_server import BaseServer as BaseServer
from ._deadline import DeadlineWatch as DeadlineWatch
from ._deadline import log_overdue as log_overdue
from ._disconnects import is_disconnect as is_disconnect
from ._handlers import BaseRequestHandler as BaseRequestHandler
from ._handlers import DatagramRequestHandler as DatagramRequestHandler
from ._handlers import ServerT as ServerT
from ._handlers import StreamRequestHandler as StreamRequestHandler
from ._handlers import require_reply_address as require_reply_address
from ._lazy import lazy_attributes
from ._ledger import DrainResult as DrainResult
from ._ledger import Outcome as Outcome
from ._ledger import RequestCounts as RequestCounts
from ._ledger import RequestLedger as RequestLedger
from ._ledger import Ticket as Ticket
from ._ledger import cut_connection as cut_connection
from ._refusal import AdmissionError as AdmissionError
from ._serve_request import adopt_ticket as adopt_ticket
from ._serve_request import has_admission_steps as has_admission_steps
from ._serve_request import in_worker_of as in_worker_of
from ._serve_request import serve_request as serve_request
from ._settings import check_idle_timeout as check_idle_timeout
from ._settings import check_limit as check_limit
from ._settings import check_seconds as check_seconds
from ._settings import drain_grace as drain_grace
from ._socket_server import DatagramServer as DatagramServer
from ._socket_server import SocketServer as SocketServer
from ._socket_server import StreamServer as StreamServer
from ._socket_writer import SocketWriter as SocketWriter
from ._types import TYPE_CHECKING
from ._types import AddressT as AddressT
from ._types import DatagramRequest as DatagramRequest
from ._types import Generic as Generic
from ._types import MixInAddressT as MixInAddressT
from ._types import MixInRequestT as MixInRequestT
from ._types import RequestT as RequestT
from ._types import SocketAddress as SocketAddress
from ._types import StreamRequest as StreamRequest
from ._wakeup import Waker as Waker

if TYPE_CHECKING:
    from ._access import NetworkAccess as NetworkAccess
    from ._adopt import activated_sockets as activated_sockets
    from ._networks import Networks as Networks
    from ._protocols import RequestHandlerProtocol as RequestHandlerProtocol
    from ._protocols import ServerLifecycleProtocol as ServerLifecycleProtocol
    from ._protocols import ServerProtocol as ServerProtocol
    from ._proxy_protocol import ProxyProtocol as ProxyProtocol
    from ._proxy_protocol import header_length as proxy_header_length
    from ._proxy_protocol import parse_header as parse_proxy_header
    from ._signals import drain_on_signals as drain_on_signals
    from ._warm import warm_fork_lookups as warm_fork_lookups
    from ._warm import warm_stream_io as warm_stream_io

# Loaded on first use: the drop-in imports this package, and every module
# loaded here is memory a forked child copies (ipaddress, for one).
__getattr__: Callable[[str], object] = lazy_attributes(
    __name__,
    {
        "NetworkAccess": "._access",
        "drain_on_signals": "._signals",
        # The protocols are for type checkers; loading them loads typing.
        "RequestHandlerProtocol": "._protocols",
        "ServerLifecycleProtocol": "._protocols",
        "ServerProtocol": "._protocols",
        "activated_sockets": "._adopt",
        "Networks": "._networks",
        "ProxyProtocol": "._proxy_protocol",
        "proxy_header_length": "._proxy_protocol:header_length",
        "parse_proxy_header": "._proxy_protocol:parse_header",
        "warm_fork_lookups": "._warm",
        "warm_stream_io": "._warm",
    },
)

__all__ = [
    "ACCEPT_CAPACITY_ERRNOS",
    "AcceptBackoff",
    "AddressT",
    "AdmissionError",
    "BaseRequestHandler",
    "BaseServer",
    "DatagramRequest",
    "DatagramRequestHandler",
    "DatagramServer",
    "DeadlineWatch",
    "DrainResult",
    "Generic",
    "NetworkAccess",
    "Networks",
    "Outcome",
    "ProxyProtocol",
    "RequestCounts",
    "RequestHandlerProtocol",
    "RequestLedger",
    "RequestT",
    "ServerLifecycleProtocol",
    "ServerProtocol",
    "ServerT",
    "SocketAddress",
    "SocketServer",
    "SocketWriter",
    "StreamRequest",
    "StreamRequestHandler",
    "StreamServer",
    "Ticket",
    "Waker",
    "accept_connection",
    "activated_sockets",
    "adopt_ticket",
    "check_access",
    "check_idle_timeout",
    "check_limit",
    "check_seconds",
    "cut_connection",
    "drain_grace",
    "drain_on_signals",
    "has_admission_steps",
    "in_worker_of",
    "is_disconnect",
    "lazy_attributes",
    "log_overdue",
    "log_refusal",
    "parse_proxy_header",
    "proxy_header_length",
    "require_reply_address",
    "serve_request",
    "stream_socket",
    "warm_fork_lookups",
    "warm_stream_io",
]
