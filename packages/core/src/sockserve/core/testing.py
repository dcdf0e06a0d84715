"""Serving from tests: any sockserve server in the background, stopped cleanly, errors surfaced.

::

    from sockserve.core.testing import serving

    with serving(ThreadPoolTCPServer(("127.0.0.1", 0), Handler)) as served:
        reply = ask(served.address)

Every project that tests against a ``socketserver`` server writes the same
thread-start, wait-until-ready, shutdown, join and close code; this is it,
once. A pytest plugin (installed with ``sockserve-core``) gives the same as
the ``serve_in_background`` fixture.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Protocol

__all__ = ["DEFAULT_WAIT", "HandlerError", "Servable", "Served", "StartServing", "serving"]

#: How long `serving` waits for the loop to start, and for it to end.
DEFAULT_WAIT = 10.0


class Servable(Protocol):
    """What `serving` needs: a sockserve server of any model, a ``Prefork``, or a stdlib server.

    A server with ``drain`` (every sockserve one) is drained at the end; one
    without (the stdlib's) is shut down.
    """

    def serve_forever(self) -> None:
        """Serve until stopped (a server's takes ``poll_interval`` too)."""

    def shutdown(self) -> None:
        """Stop `serve_forever` and wait for it (used when there is no ``drain``)."""

    def server_close(self) -> None:
        """Release the server's socket."""


class HandlerError(AssertionError):
    """A handler raised while the server was serving a test (its cause is the handler's error).

    An `AssertionError`, so that pytest reports it as the test's failure.
    """


@dataclass
class Served:
    """A server running in the background for a ``with serving(...)`` block.

    Attributes:
        server: The server.
        address: Where it listens (``server.server_address``).
        thread: The thread running ``serve_forever``.
        errors: The handlers' errors so far, as ``sys.exc_info()`` triples
            (collected when `serving` was asked to raise them).
    """

    server: Servable
    address: object
    thread: threading.Thread
    errors: list[tuple[type[BaseException], BaseException, TracebackType | None]] = field(
        default_factory=list
    )


class StartServing(Protocol):
    """The ``serve_in_background`` fixture: ``serving``'s arguments, for this test's duration."""

    def __call__(
        self,
        server: Servable,
        *,
        raise_handler_errors: bool = ...,
        drain_timeout: float = ...,
        wait: float = ...,
        poll_interval: float | None = ...,
    ) -> Served:
        """Serve ``server`` until the test's teardown; see `serving`."""


@contextlib.contextmanager
def serving(
    server: Servable,
    *,
    raise_handler_errors: bool = False,
    drain_timeout: float = 5.0,
    wait: float = DEFAULT_WAIT,
    poll_interval: float | None = None,
) -> Iterator[Served]:
    """Serve ``server`` in a background thread for the block; stop, drain and close it after.

    Blocks until the serving loop runs (the socket listens from the
    server's construction on), then yields. On exit, even when the block
    raised: drains the server (in-flight requests get ``drain_timeout``
    seconds, then are cut), waits for the loop to end, and closes the
    server.

    Args:
        server: A bound sockserve server, of any model (the trio backend's
            too), or a ``Prefork``.
        raise_handler_errors: Collect the exceptions handlers raise (what the
            server would report through ``handle_error``, unprinted) and
            raise the first, as a `HandlerError` with the handler's
            traceback as its cause, when the block ends. A forked child's
            errors stay in the child.
        drain_timeout: Seconds in-flight requests get when the block ends.
        wait: The longest the loop may take to start, and to end.
        poll_interval: Passed to ``serve_forever`` (how often it calls
            ``service_actions``); None: its default.

    Raises:
        HandlerError: ``raise_handler_errors`` and a handler raised.
        RuntimeError: The loop did not start, or did not end, within ``wait``
            (a loop that ends by itself, or raises, is the test's to see:
            ``served.thread``).
    """
    served = Served(
        server, getattr(server, "server_address", None), _thread_for(server, poll_interval)
    )
    if raise_handler_errors:
        _collect_handler_errors(server, served.errors)
    served.thread.start()
    try:
        _wait_until_serving(server, served.thread, wait)
        yield served
    finally:
        _stop(server, served.thread, drain_timeout, wait)
    if served.errors:
        kind, error, _traceback = served.errors[0]
        more = f" (and {len(served.errors) - 1} more)" if len(served.errors) > 1 else ""
        raise HandlerError(f"a handler raised {kind.__name__}: {error}{more}") from error


def _thread_for(server: Servable, poll_interval: float | None) -> threading.Thread:
    arguments = () if poll_interval is None else (poll_interval,)
    return threading.Thread(
        target=server.serve_forever, args=arguments, name="serving", daemon=True
    )


def _collect_handler_errors(
    server: Servable,
    errors: list[tuple[type[BaseException], BaseException, TracebackType | None]],
) -> None:
    def handle_error(request: object, client_address: object) -> None:
        kind, error, traceback = sys.exc_info()
        if kind is not None and error is not None:
            errors.append((kind, error, traceback))

    server.handle_error = handle_error  # type: ignore[attr-defined]  # every server has the hook


def _wait_until_serving(server: Servable, thread: threading.Thread, wait: float) -> None:
    is_serving = getattr(server, "_is_serving", None)
    if is_serving is None:  # a Prefork: its workers serve the socket from their start
        return
    deadline = time.monotonic() + wait
    while not is_serving() and thread.is_alive():  # (a drain asked for first ends it at once)
        if time.monotonic() > deadline:
            raise RuntimeError(f"serve_forever() did not start serving within {wait:g} s")
        time.sleep(0.001)


def _stop(server: Servable, thread: threading.Thread, drain_timeout: float, wait: float) -> None:
    try:
        if thread.is_alive():
            drain = getattr(server, "drain", None)
            stopper = (
                threading.Thread(target=server.shutdown, daemon=True)
                if drain is None
                else threading.Thread(target=drain, args=(drain_timeout,), daemon=True)
            )
            stopper.start()
            stopper.join(drain_timeout + wait)
        thread.join(wait)
    finally:
        server.server_close()
    if thread.is_alive():
        raise RuntimeError(f"serve_forever() did not return within {drain_timeout + wait:g} s")
