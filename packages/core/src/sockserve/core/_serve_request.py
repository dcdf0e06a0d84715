"""The steps a request goes through in its own worker, whatever the concurrency model.

A concurrency model decides only where a request runs (the serving thread, a
new thread, a child process, a trio worker thread); what runs there is this.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._types import AddressT, RequestT

if TYPE_CHECKING:
    from ._base_server import BaseServer
    from ._in_flight import Ticket

__all__ = ["serve_request"]


def serve_request(
    server: BaseServer[RequestT, AddressT],
    request: RequestT,
    client_address: AddressT,
    ticket: Ticket | None = None,
    *,
    verify: bool = False,
) -> bool:
    """Serve one request: ``finish_request``, then always ``shutdown_request``.

    Blocks for as long as the handler runs. An `Exception` from the handler
    goes to ``server.handle_error`` (inside the ``except`` block, as the
    stdlib does), unless ``ticket`` says a drain cut the request: the error
    is then the cut's doing, not the handler's. A `BaseException` (such as
    SystemExit) propagates once the request is shut down.

    Args:
        server: The server the request came to; its hooks are called.
        request: The request, as ``get_request`` returned it.
        client_address: The client's address, as ``get_request`` returned it.
        ticket: The request's entry in the server's `InFlight`, if it keeps one.
        verify: Call ``verify_request`` first, here in the worker (models
            whose serving loop does not call it); a request it refuses is
            shut down unhandled, and an error it raises is reported.

    Returns:
        Whether the handler ran and returned without raising.
    """
    try:
        if verify and not server.verify_request(request, client_address):
            return False
        server.finish_request(request, client_address)
        return True
    except Exception:
        if ticket is None or not ticket.was_cut:
            server.handle_error(request, client_address)
        return False
    finally:
        server.shutdown_request(request)
