"""A datagram client that never bound its socket cannot be replied to: that fails cleanly.

Its address is None. ``DatagramRequestHandler.finish`` fails to reply inside
the request, so the server reports it through ``handle_error`` and goes on
serving, as the stdlib's does. The error differs: the stdlib passes None to
``sendto()``, which raises a ``TypeError`` about a bytes-like object (CPython
gh-152024); sockserve's core raises ``OSError(EDESTADDRREQ)`` saying why.
"""

from __future__ import annotations

import errno
import socketserver
import sys
import threading

from sockserve.unix import UnixDatagramServer

from .conftest import (
    SOCKSERVE,
    STDLIB,
    WAIT,
    DatagramClients,
    DatagramEcho,
    Flavour,
    MakeServer,
    Serve,
    StdlibDatagramEcho,
)

Failure = tuple[object, BaseException | None]


class RecordsErrors:
    """Records ``handle_error`` calls instead of printing them."""

    failures: list[Failure]
    failed: threading.Event

    def handle_error(self, request: object, client_address: object) -> None:
        self.failures.append((client_address, sys.exc_info()[1]))
        self.failed.set()


class StdlibRecording(RecordsErrors, socketserver.UnixDatagramServer):
    pass


class Recording(RecordsErrors, UnixDatagramServer):
    pass


def recording_server(flavour: Flavour, path: str, make_server: MakeServer) -> RecordsErrors:
    if flavour is STDLIB:
        server: StdlibRecording | Recording = make_server(StdlibRecording, path, StdlibDatagramEcho)
    else:
        server = make_server(Recording, path, DatagramEcho)
    server.failures, server.failed = [], threading.Event()
    return server


def first_failure(
    flavour: Flavour,
    sock_path: str,
    make_server: MakeServer,
    serve: Serve,
    clients: DatagramClients,
) -> Failure:
    """Send from an unbound client; return what handle_error saw; check serving goes on."""
    server = recording_server(flavour, sock_path, make_server)
    serve(server)
    clients.unbound().sendto(b"reply to me\n", sock_path)
    assert server.failed.wait(WAIT), "handle_error was not called"
    assert clients.exchange(sock_path, b"still serving\n") == b"still serving\n"
    (failure,) = server.failures
    return failure


def test_the_failed_reply_goes_through_handle_error_and_serving_goes_on(
    flavour: Flavour,
    sock_path: str,
    make_server: MakeServer,
    serve: Serve,
    datagram_clients: DatagramClients,
) -> None:
    client_address, error = first_failure(flavour, sock_path, make_server, serve, datagram_clients)
    assert client_address is None
    assert isinstance(error, Exception)


def test_the_stdlib_fails_with_an_unrelated_type_error(
    sock_path: str, make_server: MakeServer, serve: Serve, datagram_clients: DatagramClients
) -> None:
    _, error = first_failure(STDLIB, sock_path, make_server, serve, datagram_clients)
    assert isinstance(error, TypeError)
    assert "bytes-like object is required" in str(error)


def test_sockserve_says_the_client_is_not_bound(
    sock_path: str, make_server: MakeServer, serve: Serve, datagram_clients: DatagramClients
) -> None:
    _, error = first_failure(SOCKSERVE, sock_path, make_server, serve, datagram_clients)
    assert isinstance(error, OSError)
    assert error.errno == errno.EDESTADDRREQ
    assert "Unix datagram socket is not bound to an address" in str(error)
