"""sockserve.trio_backend: every sockserve server, served by trio.

`TrioMixIn` joins any sockserve socket server (``class Server(TrioMixIn,
TCPServer)``) and serves it under trio: async handlers
(`AsyncStreamRequestHandler`, `AsyncDatagramRequestHandler`) in trio tasks,
the classic sync handlers (``http.server``'s among them) in trio worker
threads; classically (``serve_forever()``, ``shutdown()``) or structured
(``await nursery.start(server.serve)``), with a graceful drain, a connection
limit with backpressure, an idle timeout, and the accept back-off.
"""

from ._handlers import AsyncBaseRequestHandler as AsyncBaseRequestHandler
from ._handlers import AsyncDatagramRequestHandler as AsyncDatagramRequestHandler
from ._handlers import AsyncStreamRequestHandler as AsyncStreamRequestHandler
from ._handlers import is_async_handler as is_async_handler
from ._mixin import TrioMixIn as TrioMixIn
from ._stream import DEFAULT_MAX_SIZE as DEFAULT_MAX_SIZE
from ._stream import BufferedSocketStream as BufferedSocketStream
from ._stream import IncompleteReadError as IncompleteReadError
from ._stream import LineTooLongError as LineTooLongError

__all__ = [
    "DEFAULT_MAX_SIZE",
    "AsyncBaseRequestHandler",
    "AsyncDatagramRequestHandler",
    "AsyncStreamRequestHandler",
    "BufferedSocketStream",
    "IncompleteReadError",
    "LineTooLongError",
    "TrioMixIn",
    "is_async_handler",
]
