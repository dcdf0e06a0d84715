"""The fork warm-ups: `warm_stream_io` closes what it opens; the lookups run no application code."""

from __future__ import annotations

import errno
import os
import socket
import warnings

import pytest

from sockserve.core import warm_fork_lookups, warm_stream_io
from sockserve.core._warm import warm_type_lookups


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


class Recorded:
    """A descriptor of the application's: reading it through a class runs its code."""

    def __init__(self, reads: list[str]) -> None:
        self.reads = reads

    def __get__(self, instance: object, owner: type | None = None) -> int:
        self.reads.append("read")
        return 1


def test_type_lookups_never_run_a_descriptor_of_the_applications() -> None:
    reads: list[str] = []
    fget_calls: list[object] = []

    class Handler:
        recorded = Recorded(reads)
        plain = 1

        @property
        def computed(self) -> int:
            fget_calls.append(self)
            return 2

        def method(self) -> None: ...

    warm_type_lookups(Handler, ("recorded", "computed", "plain", "method", "missing"))
    assert reads == []  # skipped, not read
    assert fget_calls == []  # a property read through its class returns itself


def test_type_lookups_skip_a_metaclass_that_computes_attributes() -> None:
    asked: list[str] = []
    reads: list[str] = []

    class Computing(type):
        def __getattr__(cls, name: str) -> object:
            asked.append(name)
            return None

    class Described(type):
        special = Recorded(reads)

    class ByComputing(metaclass=Computing):
        pass

    class ByDescribed(metaclass=Described):
        pass

    warm_type_lookups(ByComputing, ("missing", "other"))
    warm_type_lookups(ByDescribed, ("special", "missing"))
    assert asked == []
    assert reads == []


def test_type_lookups_swallow_what_a_builtin_descriptor_raises() -> None:
    class Refuses:
        __slots__ = ("value",)

    # A slot read through its class returns the descriptor; a missing name raises AttributeError.
    warm_type_lookups(Refuses, ("value", "missing", "__init__"))


def test_fork_lookups_warm_a_callable_handler_and_a_server_without_its_attributes() -> None:
    class Bare:
        RequestHandlerClass = staticmethod(lambda *args: None)  # a callable, not a class

    warm_fork_lookups(Bare())  # nothing to warm on the handler, and no exception
