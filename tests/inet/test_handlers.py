"""StreamRequestHandler details, the same in both flavours.

Each handler stores what it observes in ``server.facts`` (an assertion failing
inside a handler would only reach ``handle_error``); the test asserts on them.
"""

from __future__ import annotations

import io
import socket
import struct
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from tests.conftest import WAIT

if TYPE_CHECKING:
    from tests.inet.conftest import Client, Flavour, MakeServer, Recorder


def stream_server(
    flavour: Flavour,
    make_server: MakeServer,
    recording: Recorder,
    handle: Callable[[Any], None],
    **attributes: Any,
) -> Any:
    """A recording TCPServer whose StreamRequestHandler runs ``handle`` and has ``attributes``.

    ``tcp_nodelay = False`` turns off sockserve's TCP_NODELAY default, so that
    both flavours start from the same socket options.
    """
    server_class = type("Server", (recording(flavour.TCPServer),), {"tcp_nodelay": False})
    handler = type("Handler", (flavour.StreamRequestHandler,), {"handle": handle, **attributes})
    server = make_server(server_class, handler)
    server.facts = {}
    return server


def handle_from_thread(
    server: Any, client: Client, payload: bytes, half_close: bool = True
) -> bytes:
    """Send ``payload`` from a client thread, handle it here; return what the client got."""
    reply = client.start(client.exchange, server.server_address, payload, half_close)
    server.handle_request()
    return reply.result()


def raised(call: Callable[[], object]) -> type[BaseException] | None:
    """The type of the exception ``call()`` raises, or None."""
    try:
        call()
    except Exception as exc:
        return type(exc)
    return None


def observe_unbuffered_wfile(handler: Any) -> None:
    wfile, facts = handler.wfile, handler.server.facts
    facts["is_buffered_io"] = isinstance(wfile, io.BufferedIOBase)
    facts["same_fileno"] = wfile.fileno() == handler.request.fileno()
    facts["connection_is_request"] = handler.connection is handler.request
    facts["written"] = wfile.write(b"hello")
    facts["read"] = raised(wfile.read)


def test_unbuffered_wfile_writes_through(
    flavour: Flavour, make_server: MakeServer, recording: Recorder, client: Client
) -> None:
    server = stream_server(flavour, make_server, recording, observe_unbuffered_wfile)
    assert handle_from_thread(server, client, b"") == b"hello"
    assert server.facts == {
        "is_buffered_io": True,
        "same_fileno": True,
        "connection_is_request": True,
        "written": 5,
        "read": io.UnsupportedOperation,
    }


def observe_buffering(handler: Any) -> None:
    peer, facts = handler.server.peer, handler.server.facts
    handler.wfile.write(b"one")
    peer.setblocking(False)
    facts["before_flush"] = raised(lambda: peer.recv(16))
    peer.settimeout(WAIT)
    handler.wfile.flush()
    facts["after_flush"] = peer.recv(16)
    handler.wfile.write(b"two")  # left for finish() to flush


def test_buffered_wfile_holds_writes_until_flush(
    flavour: Flavour, make_server: MakeServer, recording: Recorder, client: Client
) -> None:
    """The handler reads the client's socket itself, so the client is not in a thread."""
    server = stream_server(flavour, make_server, recording, observe_buffering, wbufsize=-1)
    server.peer = client.connect(server.server_address)
    server.peer.shutdown(socket.SHUT_WR)
    server.handle_request()
    assert server.facts == {"before_flush": BlockingIOError, "after_flush": b"one"}
    assert server.peer.recv(16) == b"two"
    assert server.peer.recv(16) == b""
    assert server.errors == []


def observe_raw_rfile(handler: Any) -> None:
    handler.server.facts["raw"] = isinstance(handler.rfile, socket.SocketIO)
    handler.server.facts["line"] = handler.rfile.readline()
    handler.server.facts["rest"] = handler.rfile.read()


def test_unbuffered_rfile_is_a_raw_socketio(
    flavour: Flavour, make_server: MakeServer, recording: Recorder, client: Client
) -> None:
    server = stream_server(flavour, make_server, recording, observe_raw_rfile, rbufsize=0)
    handle_from_thread(server, client, b"line\nrest")
    assert server.facts == {"raw": True, "line": b"line\n", "rest": b"rest"}


def read_a_line(handler: Any) -> None:
    handler.server.facts["line"] = handler.rfile.readline()


def test_handler_timeout_reaches_handle_error(
    flavour: Flavour, make_server: MakeServer, recording: Recorder, client: Client
) -> None:
    server = stream_server(flavour, make_server, recording, read_a_line, timeout=0.1)
    assert handle_from_thread(server, client, b"", half_close=False) == b""
    assert server.errors == [TimeoutError]
    assert server.facts == {}


def observe_nodelay(handler: Any) -> None:
    option = handler.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    handler.server.facts["nodelay"] = bool(option)


@pytest.mark.parametrize("disabled", [False, True])
def test_disable_nagle_algorithm_sets_tcp_nodelay(
    flavour: Flavour, make_server: MakeServer, recording: Recorder, client: Client, disabled: bool
) -> None:
    server = stream_server(
        flavour, make_server, recording, observe_nodelay, disable_nagle_algorithm=disabled
    )
    handle_from_thread(server, client, b"")
    assert server.facts == {"nodelay": disabled}


def write_to_a_reset_connection(handler: Any) -> None:
    handler.wfile.write(b"never delivered")


def test_finish_ignores_the_failed_flush_but_close_flushes_again(
    flavour: Flavour, make_server: MakeServer, recording: Recorder, client: Client
) -> None:
    """The client resets the connection, so finish()'s flush fails with ECONNRESET.

    finish() swallows that; but the data stays buffered, so its wfile.close()
    flushes again and fails with EPIPE, which reaches handle_error (in both).
    Had the first error escaped, handle_error would see ConnectionResetError.
    """
    server = stream_server(
        flavour, make_server, recording, write_to_a_reset_connection, wbufsize=-1
    )
    peer = client.connect(server.server_address)
    peer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    peer.close()  # sends RST
    server.handle_request()
    assert server.errors == [BrokenPipeError]
    assert server.calls[-3:] == ["handle_error", "shutdown_request", "close_request"]
