"""Between trio and blocking code: trio run from the classic API; sockets made non-blocking."""

from __future__ import annotations

import socket as _socket
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar, TypeVarTuple

import trio

__all__ = ["nonblocking", "run_blocking"]

T = TypeVar("T")
Ts = TypeVarTuple("Ts")


def run_blocking(async_fn: Callable[[*Ts], Awaitable[T]], *args: *Ts) -> T:
    """Run ``async_fn(*args)`` in a new trio run in the calling thread; block until it ends.

    An exception that ends the run alone is raised as itself, not inside the
    exception groups trio's nurseries wrap it in, so that the classic API
    raises what the stdlib's would (a ``KeyboardInterrupt`` out of
    ``serve_forever()``, say). Several at once stay grouped.

    Raises:
        RuntimeError: Called from inside a trio run (trio cannot nest runs).
    """
    sole: BaseException | None = None
    try:
        return trio.run(async_fn, *args)
    except BaseExceptionGroup as group:
        sole = _sole_exception(group)
        if sole is None:
            raise
    # Raised outside the except block, so the group does not become its context.
    raise sole


def _sole_exception(group: BaseExceptionGroup[BaseException]) -> BaseException | None:
    """The one exception nested in ``group``, or None if there are several."""
    while len(group.exceptions) == 1:
        (inner,) = group.exceptions
        if not isinstance(inner, BaseExceptionGroup):
            return inner
        group = inner
    return None


@contextmanager
def nonblocking(sock: _socket.socket) -> Iterator[None]:
    """Make ``sock`` non-blocking for trio inside, and give it back its timeout after."""
    timeout = sock.gettimeout()
    sock.setblocking(False)
    try:
        yield
    finally:
        if sock.fileno() != -1:
            sock.settimeout(timeout)
