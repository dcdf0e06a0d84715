"""`drain_on_signals`: SIGTERM and Ctrl-C drain a server gracefully, a second one at once."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from types import FrameType

from ._settings import drain_grace
from ._types import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Protocol

__all__ = ["drain_on_signals"]

_DEFAULT_SIGNALS = (signal.SIGTERM, signal.SIGINT)


if TYPE_CHECKING:

    class Drainable(Protocol):
        """A server that can be drained without blocking (every sockserve server)."""

        def request_drain(self, timeout: float) -> None:
            """Start a graceful drain with ``timeout`` seconds of grace; never blocks."""
            ...


@contextlib.contextmanager
def drain_on_signals(
    server: Drainable,
    timeout: float,
    signals: tuple[signal.Signals, ...] = _DEFAULT_SIGNALS,
) -> Iterator[None]:
    """Drain ``server`` gracefully on each of ``signals``, inside the ``with`` block.

    ``with drain_on_signals(server, 30): server.serve_forever()``. The first
    signal starts a drain with ``timeout`` seconds of grace (see the
    server's ``drain``), and ``serve_forever`` returns once it is over; a
    second one cuts what is left at once. Each is logged to the
    ``sockserve.core`` logger. The previous handlers are put back on exit.

    Must be entered in the main thread, as Python's signal handlers are.

    Raises:
        TypeError: ``timeout`` is not a number.
        ValueError: ``timeout`` is negative, or this is not the main thread.
    """
    grace = drain_grace(timeout)
    # Imported here, not at the top: logging costs every forked child 0.1 ms to
    # set up, and a program that never drains on signals need not load it.
    import logging

    logger = logging.getLogger("sockserve.core")
    received: list[int] = []

    def drain(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        name = signal.Signals(signum).name
        if len(received) == 1:
            logger.info("%s: draining, for up to %.3g s", name, grace)
            server.request_drain(grace)
        else:
            logger.info("%s again: cutting the requests still in flight", name)
            server.request_drain(0.0)

    previous: dict[signal.Signals, signal._HANDLER] = {}
    try:
        for sig in signals:
            previous[sig] = signal.signal(sig, drain)
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
