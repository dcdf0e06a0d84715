"""The steps a request goes through in its own worker, whatever the concurrency model.

A concurrency model decides only where a request runs (a new thread, a pool
worker, a child process, a trio worker thread); what runs there is this.
"""

from __future__ import annotations

import socket as _socket
import threading

from ._admission import admit, log_refusal
from ._ledger import Outcome
from ._refusal import AdmissionError
from ._types import TYPE_CHECKING, AddressT, RequestT

if TYPE_CHECKING:
    from ._base_server import BaseServer
    from ._ledger import Ticket

__all__ = [
    "WorkerState",
    "adopt_ticket",
    "apply_idle_timeout",
    "has_admission_steps",
    "in_worker_of",
    "serve_request",
]


class WorkerState(threading.local):
    """What the calling thread serves now: defaults on the class, so reading never raises.

    Attributes:
        ticket: The ticket `adopt_ticket` gave this thread, if any.
        server: The server whose request this thread is handling, if any.
    """

    ticket: Ticket | None = None
    server: object = None


_worker = WorkerState()
# Bound once: an enum member's lookup costs, and this is on every request's path.
_COMPLETED, _FAILED, _REFUSED = Outcome.COMPLETED, Outcome.FAILED, Outcome.REFUSED


def adopt_ticket(ticket: Ticket | None) -> None:
    """Make ``ticket`` the one `serve_request` ends when it is given none, in this thread.

    For a model that runs a request through an overridable hook (a
    ``process_request_thread`` the application may override), so that the
    default hook still ends the ticket with the exact outcome. None clears it.
    """
    _worker.ticket = ticket


def in_worker_of(server: object) -> bool:
    """Whether the calling thread is, right now, handling a request of ``server``.

    A worker that would wait for its own server to stop (``drain()``, a
    trio backend's ``shutdown()``) would wait for itself: those refuse.
    """
    return _worker.server is server


def serve_request(
    server: BaseServer[RequestT, AddressT],
    request: RequestT,
    client_address: AddressT,
    ticket: Ticket | None = None,
    *,
    verify: bool = False,
) -> Outcome:
    """Serve one request: admit it, ``finish_request``, then always ``shutdown_request``.

    Blocks for as long as the handler runs. Admission first: the server's
    PROXY header, access control and TLS handshake (see `admit`); a
    connection a step refuses is logged, shut down, and counted as refused.
    A connection then gets the server's ``idle_timeout`` as its socket
    timeout. An `Exception` from the handler goes to ``server.handle_error``
    (inside the ``except`` block, as the stdlib does), unless ``ticket``
    says a drain cut the request: the error is then the cut's doing, not
    the handler's. A `BaseException` (such as SystemExit) propagates once
    the request is shut down.

    Args:
        server: The server the request came to; its hooks are called.
        request: The request, as ``get_request`` returned it.
        client_address: The client's address, as ``get_request`` returned it.
        ticket: The request's ticket in the server's ledger, begun when the
            request was handed over; ended here with the outcome. None: the
            one `adopt_ticket` gave this thread, if any.
        verify: Call ``verify_request`` first, here in the worker (models
            whose serving loop does not call it); a request it refuses is
            shut down unhandled, and an error it raises is reported.

    Returns:
        How the request ended: its handler returned, raised, or it was
        refused (by ``verify_request`` or an admission step).
    """
    if ticket is None:
        ticket = _worker.ticket
    outcome = _FAILED
    _worker.server = server
    try:
        if verify and not server.verify_request(request, client_address):
            outcome = _REFUSED
            return outcome
        if has_admission_steps(server):
            request, client_address = admit(server, request, client_address, ticket)
        if server.idle_timeout is not None:
            apply_idle_timeout(server, request)
        server.finish_request(request, client_address)
        outcome = _COMPLETED
        return outcome
    except AdmissionError as refusal:
        outcome = _REFUSED
        log_refusal(client_address, refusal)
        return outcome
    except Exception:
        if ticket is None or not ticket.was_cut:
            server.handle_error(request, client_address)
        return outcome
    finally:
        _worker.server = None
        try:
            server.shutdown_request(request)
        finally:
            if ticket is not None:
                ticket.end(outcome)


def has_admission_steps(server: BaseServer[RequestT, AddressT]) -> bool:
    """Whether ``server`` admits connections through a PROXY header, access control or TLS."""
    return (
        server.proxy_protocol is not None
        or server.access is not None
        or server.ssl_context is not None
    )


def apply_idle_timeout(server: BaseServer[RequestT, AddressT], request: object) -> None:
    """Give a connection the server's ``idle_timeout`` as its socket timeout, if set.

    A read or write that waits longer raises ``TimeoutError`` in the handler
    (``http.server``'s handlers catch it and close the connection). A
    handler's own ``timeout`` attribute, applied in its ``setup()``, wins.
    """
    timeout = server.idle_timeout
    if timeout is not None and isinstance(request, _socket.socket):
        request.settimeout(timeout)
