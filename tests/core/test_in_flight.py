"""`InFlight` and `cut_connection`: the record of requests a drain waits for, then cuts."""

from __future__ import annotations

import socket
import threading

from sockserve.core import DrainResult, InFlight, cut_connection

WAIT = 10.0


def test_a_request_that_ends_by_itself_counts_as_completed() -> None:
    in_flight = InFlight()
    ticket = in_flight.add()
    assert len(in_flight) == 1
    in_flight.remove(ticket)
    assert len(in_flight) == 0
    assert in_flight.counts() == DrainResult(completed=1, cut=0)


def test_cut_all_calls_each_cut_once_and_counts_them_as_cut() -> None:
    in_flight = InFlight()
    calls: list[str] = []
    first = in_flight.add(lambda: calls.append("first"))
    second = in_flight.add(None)  # the model cuts this one itself
    finished = in_flight.add(lambda: calls.append("finished"))
    in_flight.remove(finished)
    assert in_flight.cut_all() == 2
    assert in_flight.cut_all() == 0  # nobody is cut twice
    assert calls == ["first"]
    assert first.was_cut
    assert second.was_cut
    assert not finished.was_cut
    for ticket in (first, second):
        in_flight.remove(ticket)  # a cut request still ends, and is removed
    assert in_flight.counts() == DrainResult(completed=1, cut=2)
    assert len(in_flight) == 0


def test_workers_may_add_and_remove_while_another_thread_cuts() -> None:
    in_flight = InFlight()
    start = threading.Barrier(5)

    def worker() -> None:
        start.wait(WAIT)
        for _ in range(2000):
            in_flight.remove(in_flight.add())

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    start.wait(WAIT)
    cut = sum(in_flight.cut_all() for _ in range(200))
    for thread in threads:
        thread.join(WAIT)
    counts = in_flight.counts()
    assert counts.completed + counts.cut == 8000
    assert counts.cut == cut
    assert len(in_flight) == 0


def test_cut_connection_unblocks_a_recv_in_another_thread() -> None:
    ours, peer = socket.socketpair()
    got: list[bytes] = []
    with ours, peer:
        reader = threading.Thread(target=lambda: got.append(ours.recv(10)))
        reader.start()
        cut_connection(ours)
        reader.join(WAIT)
        assert got == [b""]
        cut_connection(ours)  # again, or on a closed socket: never raises
    cut_connection(ours)
