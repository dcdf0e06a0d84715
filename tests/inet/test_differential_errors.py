# mypy: allow-subclassing-any
"""Error paths: the same hooks run, the same report is printed, the same exceptions escape."""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from tests.conftest import WAIT

if TYPE_CHECKING:
    from tests.inet.conftest import (
        Client,
        Differential,
        Flavour,
        HandlerFactory,
        MakeServer,
        Recorder,
        Serve,
        StepRecorder,
    )

HANDLED_UNTIL = ["verify_request", "process_request", "finish_request"]
SHUT_DOWN = ["shutdown_request", "close_request"]
RULE = "-" * 40


def handle_failing(
    server: Any, client: Client, error: type[BaseException] | None = None
) -> tuple[list[str], list[type[BaseException] | None], bytes]:
    """Handle one request from a silent client, expecting ``error`` out of handle_request.

    Returns the recorded calls, the types handle_error saw and what the client received.
    """
    reply = client.start(client.exchange, server.server_address, b"")
    if error is None:
        assert server.handle_request() is None
    else:
        with pytest.raises(error):
            server.handle_request()
    return server.calls, server.errors, reply.result()


@pytest.mark.parametrize("step", ["handle", "finish"])
def test_handler_exception_goes_to_handle_error_then_shutdown_request(
    differential: Differential,
    make_server: MakeServer,
    recording: Recorder,
    recording_handler: StepRecorder,
    client: Client,
    step: str,
) -> None:
    def run(flavour: Flavour) -> Any:
        handler = recording_handler(flavour.BaseRequestHandler, fail_in=step)
        server = make_server(recording(flavour.TCPServer), handler)
        return handle_failing(server, client)

    steps = ["setup", "handle", "finish"]
    assert differential(run) == (
        [*HANDLED_UNTIL, *steps, "handle_error", *SHUT_DOWN],
        [ValueError],  # sys.exc_info() inside handle_error: it runs in the except block
        b"",
    )


def test_setup_raising_skips_handle_and_finish(
    differential: Differential,
    make_server: MakeServer,
    recording: Recorder,
    recording_handler: StepRecorder,
    client: Client,
) -> None:
    def run(flavour: Flavour) -> Any:
        handler = recording_handler(flavour.BaseRequestHandler, fail_in="setup")
        server = make_server(recording(flavour.TCPServer), handler)
        return handle_failing(server, client)

    assert differential(run) == (
        [*HANDLED_UNTIL, "setup", "handle_error", *SHUT_DOWN],
        [ValueError],
        b"",
    )


@contextlib.contextmanager
def shutdown_after(server: Any, seconds: float) -> Iterator[None]:
    """Bound a serve_forever() run in this thread: a timer shuts it down after ``seconds``."""
    timer = threading.Timer(seconds, server.shutdown)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def report_lines(stderr: str) -> list[str]:
    """The parts of handle_error's report that do not name a source file; ports masked."""
    lines = stderr.splitlines()
    summary = [lines[0], lines[1], lines[2], lines[-2], lines[-1]]
    return [re.sub(r"\('127\.0\.0\.1', \d+\)", "('127.0.0.1', PORT)", line) for line in summary]


def test_default_handle_error_prints_the_same_report(
    differential: Differential,
    make_server: MakeServer,
    recording_handler: StepRecorder,
    client: Client,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def run(flavour: Flavour) -> list[str]:
        handler = recording_handler(flavour.BaseRequestHandler, fail_in="handle")
        server = make_server(flavour.TCPServer, handler)
        server.calls = []
        reply = client.start(client.exchange, server.server_address, b"")
        server.handle_request()
        assert reply.result() == b""
        return report_lines(capsys.readouterr().err)

    assert differential(run) == [
        RULE,
        "Exception occurred during processing of request from ('127.0.0.1', PORT)",
        "Traceback (most recent call last):",
        "ValueError: boom",
        RULE,
    ]


def test_handle_error_raising_skips_shutdown_request(
    differential: Differential,
    make_server: MakeServer,
    recording: Recorder,
    recording_handler: StepRecorder,
    client: Client,
) -> None:
    def run(flavour: Flavour) -> Any:
        base: Any = recording(flavour.TCPServer)

        class Reraising(base):
            def handle_error(self, request: Any, client_address: Any) -> None:
                self.calls.append("handle_error")
                self.leaked = request
                raise  # handle_error runs inside the except block: re-raise it

        handler = recording_handler(flavour.BaseRequestHandler, fail_in="handle")
        server = make_server(Reraising, handler)
        reply = client.start(client.exchange, server.server_address, b"")
        with pytest.raises(ValueError, match="boom"):
            server.handle_request()
        assert server.leaked.fileno() != -1, "the request was closed"
        server.leaked.close()
        return server.calls, reply.result()

    assert differential(run) == ([*HANDLED_UNTIL, "setup", "handle", "finish", "handle_error"], b"")


@pytest.mark.parametrize("error", [SystemExit, KeyboardInterrupt])
def test_base_exception_shuts_down_the_request_and_escapes(
    differential: Differential,
    make_server: MakeServer,
    recording: Recorder,
    recording_handler: StepRecorder,
    client: Client,
    error: type[BaseException],
) -> None:
    def run(flavour: Flavour) -> Any:
        handler = recording_handler(flavour.BaseRequestHandler, fail_in="handle", error=error)
        server = make_server(recording(flavour.TCPServer), handler)
        return handle_failing(server, client, error)

    assert differential(run) == (
        [*HANDLED_UNTIL, "setup", "handle", "finish", *SHUT_DOWN],
        [],
        b"",
    )


@pytest.mark.parametrize("error", [SystemExit, KeyboardInterrupt])
def test_base_exception_escapes_serve_forever_which_can_run_again(
    flavour: Flavour,
    make_server: MakeServer,
    recording: Recorder,
    recording_handler: StepRecorder,
    echo_handler: HandlerFactory,
    echo_lines: tuple[bytes, ...],
    echo_replies: list[bytes],
    client: Client,
    serve: Serve,
    error: type[BaseException],
) -> None:
    handler = recording_handler(flavour.BaseRequestHandler, fail_in="handle", error=error)
    server = make_server(recording(flavour.TCPServer), handler)
    reply = client.start(client.exchange, server.server_address, b"")
    with pytest.raises(error), shutdown_after(server, WAIT):
        server.serve_forever(0.01)
    assert reply.result() == b""
    assert "handle_error" not in server.calls
    assert server.calls[-2:] == SHUT_DOWN
    server.RequestHandlerClass = echo_handler(flavour)
    serve(server)
    assert client.converse(server.server_address, echo_lines) == echo_replies


def rejecting_get_request(
    flavour: Flavour, recording: Recorder, error: type[Exception]
) -> type[Any]:
    """A recording TCPServer whose get_request accepts, closes, then raises ``error``."""
    base: Any = recording(flavour.TCPServer)

    class Rejecting(base):
        def get_request(self) -> Any:
            connection, _ = super().get_request()
            connection.close()
            raise error("injected")

    return Rejecting


def test_get_request_oserror_drops_the_request(
    differential: Differential,
    make_server: MakeServer,
    recording: Recorder,
    client: Client,
) -> None:
    def run(flavour: Flavour) -> Any:
        server_class = rejecting_get_request(flavour, recording, OSError)
        server = make_server(server_class, flavour.BaseRequestHandler)
        return handle_failing(server, client)

    assert differential(run) == ([], [], b"")


def test_get_request_other_exception_propagates(
    differential: Differential,
    make_server: MakeServer,
    recording: Recorder,
    client: Client,
) -> None:
    def run(flavour: Flavour) -> Any:
        server_class = rejecting_get_request(flavour, recording, RuntimeError)
        server = make_server(server_class, flavour.BaseRequestHandler)
        return handle_failing(server, client, RuntimeError)

    assert differential(run) == ([], [], b"")
