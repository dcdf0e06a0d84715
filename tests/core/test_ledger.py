"""`RequestLedger` and `cut_connection`: every request counted, and what a drain cuts."""

from __future__ import annotations

import socket
import threading

import pytest

from sockserve.core import DrainResult, Outcome, RequestCounts, RequestLedger, cut_connection

WAIT = 10.0


def balanced(counts: RequestCounts) -> bool:
    """Nothing lost: every accepted request is active or ended one way."""
    ended = counts.completed + counts.failed + counts.refused + counts.cut
    return counts.accepted == counts.active + ended


def test_each_outcome_is_counted_once() -> None:
    ledger = RequestLedger()
    tickets = [ledger.begin() for _ in range(4)]
    tickets[0].end(Outcome.COMPLETED)
    tickets[1].end(Outcome.FAILED)
    tickets[2].end(Outcome.REFUSED)
    tickets[2].end(Outcome.COMPLETED)  # a second end is ignored
    ledger.refused_unhandled += 1
    counts = ledger.counts()
    assert counts == RequestCounts(accepted=5, active=1, completed=1, failed=1, refused=2, cut=0)
    assert balanced(counts)


def test_cut_all_cuts_each_open_request_once_and_counts_it_as_cut() -> None:
    ledger = RequestLedger()
    calls: list[str] = []
    first = ledger.begin("first", cut=lambda request: calls.append(str(request)))
    second = ledger.begin()  # the model cuts this one itself
    done = ledger.begin("done", cut=lambda request: calls.append(str(request)))
    done.end(Outcome.COMPLETED)
    assert ledger.cut_all() == 2
    assert ledger.cut_all() == 0  # nobody is cut twice
    assert calls == ["first"]
    assert (first.was_cut, second.was_cut, done.was_cut) == (True, True, False)
    assert ledger.counts().active == 0  # cut requests still running count as cut
    first.end(Outcome.FAILED)  # the error a cut causes is not a failure
    second.end(Outcome.COMPLETED)
    counts = ledger.counts()
    assert (counts.completed, counts.failed, counts.cut, counts.active) == (1, 0, 2, 0)
    assert balanced(counts)


def test_the_counts_balance_while_threads_begin_end_and_cut_at_once() -> None:
    ledger = RequestLedger()
    start = threading.Barrier(5)
    snapshots: list[RequestCounts] = []

    def worker(outcome: Outcome) -> None:
        start.wait(WAIT)
        for _ in range(2000):
            ledger.begin().end(outcome)

    threads = [threading.Thread(target=worker, args=(o,)) for o in (*Outcome, Outcome.COMPLETED)]
    for thread in threads:
        thread.start()
    start.wait(WAIT)
    for _ in range(200):
        ledger.cut_all()
        snapshots.append(ledger.counts())
    for thread in threads:
        thread.join(WAIT)
    final = ledger.counts()
    assert all(balanced(s) for s in snapshots)
    assert final.accepted == 8000
    assert final.active == 0
    assert balanced(final)


def test_a_limit_sets_full_and_the_end_that_makes_room_says_so() -> None:
    ledger = RequestLedger(limit=2)
    rooms: list[bool] = []
    ledger.on_room = lambda: rooms.append(ledger.full)
    first, _second = ledger.begin(), ledger.begin()
    full_then = ledger.full
    first.end(Outcome.COMPLETED)
    assert (full_then, ledger.full, rooms) == (True, False, [False])


def test_wait_until_idle_returns_when_the_last_request_ends() -> None:
    ledger = RequestLedger()
    ticket = ledger.begin()
    assert not ledger.wait_until_idle(0.01)
    threading.Timer(0.05, ticket.end, args=(Outcome.COMPLETED,)).start()
    assert ledger.wait_until_idle(WAIT)


def test_a_drain_result_is_what_ended_and_was_cut_between_two_snapshots() -> None:
    ledger = RequestLedger()
    before = ledger.counts()
    ledger.begin().end(Outcome.FAILED)
    ledger.begin()
    ledger.cut_all()
    assert DrainResult.between(before, ledger.counts()) == DrainResult(completed=1, cut=1)


def test_a_ticket_cuts_its_socket_request_by_shutting_it_down() -> None:
    ledger = RequestLedger()
    ours, peer = socket.socketpair()
    with ours, peer:
        ledger.begin(ours)
        ledger.cut_all()
        assert ours.recv(10) == b""


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


@pytest.mark.parametrize("outcome", list(Outcome))
def test_counts_add_up_across_servers(outcome: Outcome) -> None:
    ledgers = [RequestLedger(), RequestLedger()]
    for ledger in ledgers:
        ledger.begin().end(outcome)
    total = ledgers[0].counts() + ledgers[1].counts()
    assert total.accepted == 2
    assert balanced(total)
