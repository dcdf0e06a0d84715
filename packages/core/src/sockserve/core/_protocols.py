"""The documented interface of a socketserver server and request handler.

These protocols are the one definition of the interface that the stdlib's
``socketserver`` documents. Every sockserve server class is proven to satisfy
them by mypy (see ``tests/typing/``), and so is the stdlib's own
``socketserver.TCPServer``: a protocol stricter than the stdlib would be a bug.

`ServerLifecycleProtocol` holds the members whose types do not depend on what
a server serves; `ServerProtocol` adds the request hooks, typed by the request
and address types. Unparametrised, ``ServerProtocol`` means "any server":
ours, the stdlib's, or a user's own class with the documented members.
"""

from __future__ import annotations

import socket
import typing
from collections.abc import Callable
from types import TracebackType
from typing import Any, Generic, Protocol, Self

from ._types import TYPE_CHECKING, SocketAddress, StreamRequest

if TYPE_CHECKING:
    from typing_extensions import TypeVar
else:  # Protocol needs typing's own type variables; their defaults are for type checkers

    def TypeVar(name: str, *constraints: object, default: object = None, **options: object):
        return typing.TypeVar(name, *constraints, **options)


__all__ = ["RequestHandlerProtocol", "ServerLifecycleProtocol", "ServerProtocol"]


class ServerLifecycleProtocol(Protocol):
    """What any server offers, whatever the requests and addresses it serves.

    The attributes are read-only here so that a subclass may narrow them
    (``address_family = socket.AF_INET6`` is an ``AddressFamily``); servers
    themselves let them be assigned, as the stdlib's do.
    """

    @property
    def address_family(self) -> int:
        """The socket family, read when the socket is created."""
        ...

    @property
    def socket_type(self) -> int:
        """The socket type, read when the socket is created."""
        ...

    @property
    def socket(self) -> socket.socket:
        """The listening (stream) or receiving (datagram) socket."""
        ...

    @property
    def timeout(self) -> float | None:
        """Seconds `handle_request` waits before `handle_timeout`; None: forever."""
        ...

    @property
    def allow_reuse_address(self) -> bool:
        """Whether ``SO_REUSEADDR`` is set before binding."""
        ...

    @property
    def request_queue_size(self) -> int:
        """The listen backlog of a stream server."""
        ...

    @property
    def server_address(self) -> object:
        """The address the server is bound to (after binding, the real one)."""
        ...

    def fileno(self) -> int:
        """Return the file descriptor of `socket`, for a selector to watch."""
        ...

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        """Handle requests until `shutdown` is called.

        Blocks the calling thread. ``poll_interval`` is the longest time
        between two calls of `service_actions`.
        """
        ...

    def handle_request(self) -> None:
        """Wait for and handle one request, or call `handle_timeout`.

        Blocks for up to `timeout` seconds (the smaller of it and the socket's
        own timeout), forever if neither is set.
        """
        ...

    def shutdown(self) -> None:
        """Make `serve_forever` return, and block until it has returned.

        Does not close the socket: call `server_close` for that.
        """
        ...

    def server_close(self) -> None:
        """Release the server's socket and other resources."""
        ...

    def service_actions(self) -> None:
        """Hook called by `serve_forever` on every pass through its loop."""
        ...

    def server_bind(self) -> None:
        """Bind the socket to `server_address`; called by the constructor."""
        ...

    def server_activate(self) -> None:
        """Start listening; called by the constructor after `server_bind`."""
        ...

    def handle_timeout(self) -> None:
        """Hook called when `handle_request` waited `timeout` seconds for nothing."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...


# Any by default: a bare ``ServerProtocol`` must accept every server, and a
# server's hooks take its own request and address types, which a default
# union would reject (parameters are contravariant).
RequestT = TypeVar("RequestT", default=Any)
AddressT = TypeVar("AddressT", default=Any)


class ServerProtocol(ServerLifecycleProtocol, Protocol[RequestT, AddressT]):
    """The whole documented server interface, typed by request and address.

    ``RequestT`` is what `get_request` produces and handlers receive (a
    socket for stream servers, ``(bytes, socket)`` for datagram servers);
    ``AddressT`` is the type of the server's and its clients' addresses.
    Unparametrised (``def run(server: ServerProtocol)``) it accepts any
    server, and its hooks and address are Any.
    """

    @property
    def server_address(self) -> AddressT:
        """The address the server is bound to (after binding, the real one)."""
        ...

    @property
    def RequestHandlerClass(self) -> Callable[[RequestT, AddressT, Self], object]:
        """The handler class, instantiated once per request by `finish_request`."""
        ...

    def get_request(self) -> tuple[RequestT, AddressT]:
        """Accept or receive one request.

        Raises:
            OSError: No request could be had; the server ignores this request.
        """
        ...

    def verify_request(self, request: RequestT, client_address: AddressT) -> bool:
        """Return whether to process the request (if not, it is shut down)."""
        ...

    def process_request(self, request: RequestT, client_address: AddressT) -> None:
        """Process the request: call `finish_request`, then `shutdown_request`."""
        ...

    def finish_request(self, request: RequestT, client_address: AddressT) -> None:
        """Handle the request by instantiating `RequestHandlerClass`."""
        ...

    def handle_error(self, request: RequestT, client_address: AddressT) -> None:
        """Report an exception raised while processing the request.

        Called inside the ``except`` block, so ``sys.exc_info()`` is set.
        """
        ...

    def shutdown_request(self, request: RequestT) -> None:
        """Shut the request down (a connection: for writing) and close it."""
        ...

    def close_request(self, request: RequestT) -> None:
        """Release the request's resources."""
        ...


ServerT_co = TypeVar("ServerT_co", covariant=True, default=ServerLifecycleProtocol)
RequestT_co = TypeVar("RequestT_co", covariant=True, default=StreamRequest)
AddressT_co = TypeVar("AddressT_co", covariant=True, default=SocketAddress)


class RequestHandlerProtocol(Protocol, Generic[RequestT_co, ServerT_co, AddressT_co]):
    """The documented interface of a request handler.

    A handler is instantiated once per request; its constructor calls `setup`,
    then `handle`, then (even if `handle` raised) `finish`.
    """

    @property
    def request(self) -> RequestT_co:
        """The request: a connected socket, or ``(bytes, socket)`` for datagrams."""
        ...

    @property
    def client_address(self) -> AddressT_co:
        """The address of the client that sent the request."""
        ...

    @property
    def server(self) -> ServerT_co:
        """The server that received the request."""
        ...

    def setup(self) -> None:
        """Prepare for `handle`; if it raises, neither `handle` nor `finish` runs."""
        ...

    def handle(self) -> None:
        """Serve the request."""
        ...

    def finish(self) -> None:
        """Clean up after `handle`; runs even if `handle` raised."""
        ...
