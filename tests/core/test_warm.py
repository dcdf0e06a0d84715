"""`warm_stream_io` runs a stream handler's file I/O once, closes what it opens, never raises."""

from __future__ import annotations

import errno
import os
import socket
import warnings

import pytest

from sockserve.core import warm_stream_io


def _open_descriptors() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


@pytest.mark.parametrize(("rbufsize", "wbufsize"), [(-1, 0), (0, 0), (-1, -1), (8192, 1)])
def test_it_closes_every_socket_it_opens(rbufsize: int, wbufsize: int) -> None:
    before = _open_descriptors()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)  # an unclosed file would be one
        warm_stream_io(rbufsize, wbufsize)
    assert _open_descriptors() == before


def test_a_process_out_of_descriptors_skips_it(monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[int] = []

    def no_descriptors_left() -> tuple[socket.socket, socket.socket]:
        attempts.append(1)
        raise OSError(errno.EMFILE, os.strerror(errno.EMFILE))

    monkeypatch.setattr(socket, "socketpair", no_descriptors_left)
    warm_stream_io()  # no exception: the children just start cold
    assert attempts == [1]  # and it gives up at the first failure
