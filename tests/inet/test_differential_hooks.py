# mypy: allow-subclassing-any
"""BaseServer's hooks: the same calls in the same order, the same timeouts, the same errors."""

from __future__ import annotations

import functools
import socket
import time
from typing import TYPE_CHECKING, Any

import pytest

from tests.conftest import WAIT

if TYPE_CHECKING:
    from tests.inet.conftest import (
        Client,
        Differential,
        Flavour,
        MakeServer,
        Recorder,
        Serve,
        StepRecorder,
    )

#: What one successful request runs, hooks and handler steps together.
ONE_REQUEST = [
    "verify_request",
    "process_request",
    "finish_request",
    "setup",
    "handle",
    "finish",
    "shutdown_request",
    "close_request",
]
SHORT = 0.05
LONG = 5.0


def recorded_tcp_server(
    flavour: Flavour,
    make_server: MakeServer,
    recording: Recorder,
    recording_handler: StepRecorder,
    server_class: type[Any] | None = None,
) -> Any:
    """A recording TCPServer (or ``server_class``) whose handler records its steps too."""
    cls = server_class or recording(flavour.TCPServer)
    return make_server(cls, recording_handler(flavour.BaseRequestHandler))


def handle_one(server: Any, client: Client) -> tuple[list[str], bytes]:
    """Handle one connection from a silent client; return the calls and what it received."""
    reply = client.start(client.exchange, server.server_address, b"")
    assert server.handle_request() is None
    return server.calls, reply.result()


def test_one_request_runs_the_same_hooks_in_the_same_order(
    differential: Differential,
    make_server: MakeServer,
    recording: Recorder,
    recording_handler: StepRecorder,
    client: Client,
) -> None:
    def run(flavour: Flavour) -> tuple[list[str], bytes]:
        server = recorded_tcp_server(flavour, make_server, recording, recording_handler)
        return handle_one(server, client)

    assert differential(run) == (ONE_REQUEST, b"")


def socketpair_server(flavour: Flavour, recording: Recorder) -> type[Any]:
    """A bare BaseServer subclass over a socket pair: each request is one recv()."""
    base: Any = recording(flavour.BaseServer)

    class PairServer(base):
        def __init__(self, server_address: Any, handler: type[Any]) -> None:
            super().__init__(server_address, handler)
            self.had_socket = hasattr(self, "socket")
            self.socket, self.peer = socket.socketpair()

        def fileno(self) -> int:
            return int(self.socket.fileno())

        def get_request(self) -> tuple[bytes, str]:
            return self.socket.recv(1024), "peer"

        def server_close(self) -> None:
            self.socket.close()
            self.peer.close()

    return PairServer


def test_base_server_subclass_runs_the_same_hooks(
    differential: Differential,
    make_server: MakeServer,
    recording: Recorder,
    recording_handler: StepRecorder,
) -> None:
    def run(flavour: Flavour) -> tuple[bool, list[str]]:
        handler = recording_handler(flavour.BaseRequestHandler)
        server = make_server(socketpair_server(flavour, recording), handler)
        server.peer.sendall(b"request")
        assert server.handle_request() is None
        return server.had_socket, server.calls

    assert differential(run) == (False, ONE_REQUEST)


def test_serve_forever_calls_service_actions(
    differential: Differential,
    make_server: MakeServer,
    recording: Recorder,
    recording_handler: StepRecorder,
    client: Client,
    serve: Serve,
) -> None:
    def run(flavour: Flavour) -> list[str]:
        server = recorded_tcp_server(flavour, make_server, recording, recording_handler)
        thread = serve(server)
        assert client.exchange(server.server_address, b"") == b""
        server.shutdown()
        thread.join(WAIT)
        assert not thread.is_alive()
        assert "service_actions" in server.calls
        return [call for call in server.calls if call != "service_actions"]

    assert differential(run) == ONE_REQUEST


def test_refused_request_is_shut_down_and_not_handled(
    differential: Differential,
    make_server: MakeServer,
    recording: Recorder,
    recording_handler: StepRecorder,
    client: Client,
) -> None:
    """CPython issue #26309: a refused request must still be shut down and closed."""

    def run(flavour: Flavour) -> tuple[list[str], bytes]:
        base: Any = recording(flavour.TCPServer)

        class Refusing(base):
            def verify_request(self, request: Any, client_address: Any) -> bool:
                super().verify_request(request, client_address)
                return False

        server = recorded_tcp_server(flavour, make_server, recording, recording_handler, Refusing)
        return handle_one(server, client)

    assert differential(run) == (["verify_request", "shutdown_request", "close_request"], b"")


def test_verify_request_raising_propagates_without_shutdown(
    differential: Differential,
    make_server: MakeServer,
    recording: Recorder,
    recording_handler: StepRecorder,
    client: Client,
) -> None:
    def run(flavour: Flavour) -> tuple[list[str], bytes]:
        base: Any = recording(flavour.TCPServer)

        class Failing(base):
            def verify_request(self, request: Any, client_address: Any) -> bool:
                super().verify_request(request, client_address)
                self.leaked = request
                raise RuntimeError("verify failed")

        server = recorded_tcp_server(flavour, make_server, recording, recording_handler, Failing)
        reply = client.start(client.exchange, server.server_address, b"")
        with pytest.raises(RuntimeError, match="verify failed"):
            server.handle_request()
        assert server.leaked.fileno() != -1, "the request was closed"
        server.leaked.close()  # the request leaks in both: close it for the client's sake
        return server.calls, reply.result()

    assert differential(run) == (["verify_request"], b"")


@pytest.mark.parametrize(
    ("server_timeout", "socket_timeout"),
    [(SHORT, None), (None, SHORT), (SHORT, LONG), (LONG, SHORT)],
    ids=["server-timeout", "socket-timeout", "server-is-shorter", "socket-is-shorter"],
)
def test_handle_request_times_out_after_the_shorter_timeout(
    flavour: Flavour,
    make_server: MakeServer,
    recording: Recorder,
    server_timeout: float | None,
    socket_timeout: float | None,
) -> None:
    server = make_server(recording(flavour.TCPServer), flavour.BaseRequestHandler)
    server.timeout = server_timeout
    server.socket.settimeout(socket_timeout)
    started = time.monotonic()
    assert server.handle_request() is None
    elapsed = time.monotonic() - started
    assert server.calls == ["handle_timeout"]
    assert SHORT * 0.8 <= elapsed < LONG / 2


def after_close(flavour: Flavour, method: str) -> type[BaseException]:
    server = flavour.TCPServer(("127.0.0.1", 0), flavour.BaseRequestHandler)
    server.server_close()
    with pytest.raises(ValueError) as caught:  # noqa: PT011  # the message is checked below
        getattr(server, method)()
    if flavour.name == "sockserve":  # the same error, saying what is wrong
        assert str(caught.value) == f"{method}() on a closed TCPServer: server_close() was called"
    return caught.type


@pytest.mark.parametrize("method", ["handle_request", "serve_forever"])
def test_serving_after_server_close_raises_value_error(
    differential: Differential, method: str
) -> None:
    assert differential(functools.partial(after_close, method=method)) is ValueError
