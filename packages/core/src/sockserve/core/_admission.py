"""A connection's admission, in its own worker: PROXY header, access control, TLS handshake.

Every concurrency model runs these steps in the same place of a request's
path (the core's `serve_request`, the sync server's own request, the trio
backend's async twin), in this order: the PROXY header comes first on the
wire and gives the real client address; access control judges that
address; the TLS handshake follows the header on the wire.
"""

from __future__ import annotations

import socket as _socket

from ._refusal import AdmissionError
from ._settings import check_seconds
from ._types import TYPE_CHECKING

if TYPE_CHECKING:
    from ._base_server import BaseServer
    from ._ledger import Ticket
    from ._types import AddressT, RequestT

__all__ = ["admit", "check_access", "log_refusal", "stream_socket"]


def admit(
    server: BaseServer[RequestT, AddressT],
    request: RequestT,
    client_address: AddressT,
    ticket: Ticket | None,
) -> tuple[RequestT, AddressT]:
    """Run the server's admission steps; return the request and address to handle.

    Blocks while a PROXY header or a TLS handshake is read, each within its
    own timeout. The request becomes the TLS socket after a handshake (and
    ``ticket`` cuts that one).

    Raises:
        AdmissionError: A step refused the connection.
        ValueError: PROXY or TLS was asked of a datagram server, or
            ``handshake_timeout`` is not above 0.
        TypeError: ``handshake_timeout`` is not a number.
    """
    proxy = server.proxy_protocol
    if proxy is not None:
        client_address = proxy.read(stream_socket(request, "proxy_protocol"), client_address)  # type: ignore[assignment]  # the client's real address
    try:
        check_access(server, request, client_address)
        context = server.ssl_context
        if context is not None:
            from .tls import tls_handshake  # ssl is imported only by servers that use it

            sock = stream_socket(request, "ssl_context")
            timeout = check_seconds(server.handshake_timeout, "handshake_timeout")
            retarget = None if ticket is None else ticket.retarget
            request = tls_handshake(context, sock, timeout, retarget)  # type: ignore[assignment]  # a stream request
    except AdmissionError as refusal:
        refusal.client_address = client_address  # the real one, for the log line
        raise
    return request, client_address


def check_access(server: BaseServer[RequestT, AddressT], request: object, address: object) -> None:
    """Refuse the connection if the server's ``access`` says so.

    Raises:
        AdmissionError: Access denied, and why.
    """
    access = server.access
    if access is not None:
        reason = access(request, address)  # type: ignore[arg-type]  # the server's own types
        if reason is not None:
            raise AdmissionError(f"access denied: {reason}")


def stream_socket(request: object, option: str) -> _socket.socket:
    """The connection of a stream request.

    Raises:
        ValueError: ``request`` is a datagram: ``option`` is for stream servers only.
    """
    if not isinstance(request, _socket.socket):
        raise ValueError(f"{option} is for stream servers; this server gets datagrams")
    return request


def log_refusal(client_address: object, refusal: AdmissionError) -> None:
    """Log one line for a connection an admission step refused (from its real address)."""
    import logging  # on refusals only: a server that forks pays for every module it maps

    if refusal.client_address is not None:
        client_address = refusal.client_address
    logging.getLogger("sockserve.core").warning(
        "refused the connection from %s: %s", client_address, refusal
    )
