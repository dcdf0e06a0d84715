"""`Scope`: a ``with`` block that runs one call on the way out, without contextlib."""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["Scope"]


class Scope:
    """A ``with`` block whose entry already happened: it calls ``leave`` on the way out.

    What serving loops mark themselves with (entering is done by the call
    that makes it). Not ``contextlib.contextmanager``: contextlib is 115 KiB
    of memory, which every child of a forking server would copy.
    """

    __slots__ = ("_leave",)

    def __init__(self, leave: Callable[[], None]) -> None:
        self._leave = leave

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc_info: object) -> None:
        self._leave()
