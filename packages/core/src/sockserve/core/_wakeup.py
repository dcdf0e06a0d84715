"""A wake-up channel that makes a thread blocked in ``select()`` return at once."""

from __future__ import annotations

import errno
import socket

from ._types import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Self

__all__ = ["NullWaker", "Waker", "open_waker"]

#: How often a loop with no wake-up channel looks for a shutdown, seconds.
NO_WAKER_TICK = 0.05

# One read drains many pending wake-ups; they carry no data, only the event.
_DRAIN_CHUNK = 4096


class Waker:
    """A connected socket pair: writing one end makes the other readable.

    A socket pair rather than ``os.pipe()`` because Windows' ``select()``
    watches sockets only. Both ends are non-blocking, so `wake` never blocks:
    when the buffer is full a wake-up is already pending and one more is moot.
    """

    def __init__(self) -> None:
        self._receiver, self._sender = socket.socketpair()
        self._receiver.setblocking(False)
        self._sender.setblocking(False)

    def fileno(self) -> int:
        """Return the descriptor that becomes readable after `wake`."""
        return self._receiver.fileno()

    def wake(self) -> None:
        """Make the receiving end readable. Never blocks, never raises."""
        try:  # noqa: SIM105  # no contextlib: a forked child copies every module loaded
            self._sender.send(b"\0")
        except OSError:  # full: a wake-up is pending already
            pass

    def drain(self) -> None:
        """Consume every pending wake-up, so the next ``select()`` can block."""
        try:
            while self._receiver.recv(_DRAIN_CHUNK):
                pass
        except OSError:  # nothing left to read
            pass

    def close(self) -> None:
        """Close both ends."""
        self._receiver.close()
        self._sender.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class NullWaker:
    """Stands in for a `Waker` when the process has no descriptors left for one.

    Wakes nothing: a loop that has it polls every `NO_WAKER_TICK` seconds
    instead, so that ``shutdown()`` still returns, a little later.
    """

    def wake(self) -> None:
        """Do nothing: the loop's next tick sees what was asked."""

    def drain(self) -> None:
        """Do nothing."""

    def close(self) -> None:
        """Do nothing."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        pass


def open_waker() -> Waker | NullWaker:
    """A `Waker`; a `NullWaker` (with a warning) if the process is out of descriptors.

    A server started while every descriptor is taken serves still, as the
    stdlib's does, and its accept back-off waits for descriptors to free up.

    Raises:
        OSError: Making the socket pair failed for another reason.
    """
    try:
        return Waker()
    except OSError as exc:
        if exc.errno not in (errno.EMFILE, errno.ENFILE):
            raise
    import logging  # only now: a process with descriptors to spare never loads it

    logging.getLogger("sockserve.core").warning(
        "no descriptors left for serve_forever()'s wake-up channel: serving without it "
        "(shutdown() takes up to %.2f s)",
        NO_WAKER_TICK,
    )
    return NullWaker()
