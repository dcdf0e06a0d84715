"""Bad input to the API: a clear TypeError, ValueError or RuntimeError naming it, never a hang.

Where the stdlib's own error is relied on (CPython's test suite expects
``OverflowError`` for a port out of range; applications catch ``OSError``
from ``bind``), the drop-in raises the stdlib's error, and these tests say so
by comparing with it.
"""

from __future__ import annotations

import errno
import socketserver as stdlib
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from sockserve import socketserver
from sockserve.core import StreamRequestHandler

from .conftest import WAIT
from .models import Model, address_of, ask, build

Make = Callable[[Any], Any]


def raised(make: Callable[[], object]) -> tuple[type[BaseException], str]:
    try:
        made = make()
    except Exception as error:
        return type(error), str(error)
    close = getattr(made, "server_close", None)
    if close is not None:
        close()
    raise AssertionError(f"no error from {make}")


class UnknownFamily(socketserver.TCPServer):
    address_family = 12345


@pytest.mark.parametrize(
    ("make", "error", "says"),
    [
        pytest.param(
            lambda ss: ss.TCPServer("127.0.0.1:8000", ss.StreamRequestHandler),
            TypeError,
            "must be tuple, not str",
            id="address-not-a-tuple",
        ),
        pytest.param(
            lambda ss: ss.TCPServer(("127.0.0.1", 70000), ss.StreamRequestHandler),
            OverflowError,
            "port must be 0-65535",
            id="port-out-of-range",
        ),
        pytest.param(
            lambda ss: ss.TCPServer(("127.0.0.1", -1), ss.StreamRequestHandler),
            OverflowError,
            "port must be 0-65535",
            id="negative-port",
        ),
        pytest.param(
            lambda ss: ss.TCPServer(("127.0.0.1", "80"), ss.StreamRequestHandler),
            TypeError,
            "'str' object cannot be interpreted as an integer",
            id="port-a-string",
        ),
        pytest.param(
            lambda ss: ss.TCPServer(("127.0.0.1", 0, 0), ss.StreamRequestHandler),
            TypeError,
            "must be a pair (host, port)",
            id="three-tuple",
        ),
    ],
)
def test_bad_addresses_raise_the_stdlibs_error(
    make: Make, error: type[Exception], says: str
) -> None:
    ours, theirs = raised(lambda: make(socketserver)), raised(lambda: make(stdlib))
    assert ours == theirs
    assert ours[0] is error
    assert says in ours[1]


def test_an_unknown_family_is_the_systems_error_as_in_the_stdlib() -> None:
    with pytest.raises(OSError, match="not supported") as caught:
        UnknownFamily(("127.0.0.1", 0), socketserver.StreamRequestHandler)
    assert caught.value.errno == errno.EAFNOSUPPORT


@pytest.mark.parametrize("address", [("127.0.0.1", 0), 5, None], ids=["tuple", "int", "none"])
def test_a_unix_address_of_the_wrong_type_names_it(address: object) -> None:
    with pytest.raises(TypeError, match="a Unix socket address must be a str path or bytes, got"):
        socketserver.UnixStreamServer(address, socketserver.StreamRequestHandler)  # type: ignore[arg-type]


@pytest.mark.parametrize("handler", [StreamRequestHandler.__new__(StreamRequestHandler), None, 3])
def test_a_handler_that_is_not_callable_is_refused_at_once(handler: object) -> None:
    # The stdlib takes it, then fails every request in handle_error.
    with pytest.raises(TypeError, match="RequestHandlerClass must be a request handler class"):
        socketserver.TCPServer(("127.0.0.1", 0), handler)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("poll_interval", "error"), [("fast", TypeError), (-1, ValueError), (0, ValueError)]
)
def test_a_bad_poll_interval_names_it(poll_interval: object, error: type[Exception]) -> None:
    with (
        socketserver.TCPServer(("127.0.0.1", 0), socketserver.StreamRequestHandler) as server,
        pytest.raises(error, match="poll_interval"),
    ):
        server.serve_forever(poll_interval)  # type: ignore[arg-type]


def within(call: Callable[[], object], seconds: float = WAIT) -> object:
    """``call()``, which must return (or raise) within ``seconds``: never a hang."""
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(call())
        except BaseException as error:  # reported to the test below
            outcome.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"{call} hung"
    return outcome[0]


def test_serve_forever_on_a_closed_server_says_so(model: Model) -> None:
    server = build(model)
    server.server_close()
    error = within(server.serve_forever)
    assert isinstance(error, ValueError), error
    assert "closed" in str(error)


def test_shutdown_of_a_server_never_started_returns_at_once(model: Model) -> None:
    server = build(model)
    try:
        started = time.monotonic()
        within(server.shutdown)  # the stdlib's waits forever
        assert time.monotonic() - started < WAIT / 2
        within(server.serve_forever)  # the request was kept: it returns at once
    finally:
        server.server_close()


def test_a_second_serve_forever_at_once_is_refused(model: Model) -> None:
    server = build(model)
    loop = threading.Thread(target=server.serve_forever, daemon=True)
    try:
        loop.start()
        deadline = time.monotonic() + WAIT
        while True:  # until the first loop serves
            try:
                assert ask(address_of(server), timeout=1.0) == b"hello\n"
                break
            except OSError:
                assert time.monotonic() < deadline
        error = within(server.serve_forever)
        assert isinstance(error, RuntimeError), error
        assert "already serving" in str(error)
        assert ask(address_of(server)) == b"hello\n"  # the first loop serves on
    finally:
        within(lambda: server.drain(WAIT))  # type: ignore[attr-defined]
        loop.join(WAIT)
        server.server_close()


def test_the_stdlib_would_take_a_non_callable_handler_silently() -> None:
    # The reference behaviour the test above improves on.
    with stdlib.TCPServer(("127.0.0.1", 0), None) as server:  # type: ignore[arg-type]
        assert server.RequestHandlerClass is None
