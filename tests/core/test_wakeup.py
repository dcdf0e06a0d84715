from __future__ import annotations

import selectors

from sockserve.core._wakeup import Waker


def readable(waker: Waker) -> bool:
    with selectors.DefaultSelector() as selector:
        selector.register(waker, selectors.EVENT_READ)
        return bool(selector.select(0))


def test_wake_makes_it_readable_and_drain_clears_it() -> None:
    waker = Waker()
    try:
        assert not readable(waker)
        waker.wake()
        assert readable(waker)
        waker.drain()
        assert not readable(waker)
    finally:
        waker.close()


def test_wake_never_blocks_even_when_the_buffer_is_full() -> None:
    waker = Waker()
    try:
        for _ in range(200_000):  # far beyond any socket buffer
            waker.wake()
        waker.drain()
        assert not readable(waker)
    finally:
        waker.close()


def test_wake_after_close_does_not_raise() -> None:
    waker = Waker()
    waker.close()
    waker.wake()
    waker.drain()
