"""A wake-up channel that makes a thread blocked in ``select()`` return at once."""

from __future__ import annotations

import contextlib
import socket
from typing import Self

__all__ = ["Waker"]

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
        with contextlib.suppress(OSError):
            self._sender.send(b"\0")

    def drain(self) -> None:
        """Consume every pending wake-up, so the next ``select()`` can block."""
        with contextlib.suppress(OSError):
            while self._receiver.recv(_DRAIN_CHUNK):
                pass

    def close(self) -> None:
        """Close both ends."""
        self._receiver.close()
        self._sender.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
