"""Slowloris: clients that send nothing, or a byte at a time, cannot starve the polite one.

``idle_timeout`` cuts a connection whose reads wait too long; a client that
drips a byte before each timeout defeats it, and ``request_deadline`` cuts
that one. The bounded models (one thread, a pool, prefork workers) are the
ones a slow client could starve: here each has fewer workers than there are
slow clients, which hold them in turn, each for its timeout at most. So a
polite client queued behind them waits for each worker's share of those
timeouts, and no longer; in the unbounded models it does not wait at all.
"""

from __future__ import annotations

import select
import socket
import time
from concurrent.futures import ThreadPoolExecutor

from .conftest import WAIT, RunServer, connect
from .models import Model

IDLE_CLIENTS = DRIPPERS = 4
SLOW_CLIENTS = IDLE_CLIENTS + DRIPPERS
IDLE_TIMEOUT = 0.25
DEADLINE = 0.5
#: Fewer workers than slow clients, in every bounded model.
SETTINGS = {
    "idle_timeout": IDLE_TIMEOUT,
    "request_deadline": DEADLINE,
    "pool_size": 2,
    "max_threads": 2,
}
#: How many slow clients each model serves at once (the rest wait in the backlog).
AT_ONCE = {"sync": 1, "pool": 2, "prefork": 4, "trio-sync": 2}
#: A deadline's cut comes between 1 and 1.125 deadlines; then scheduling, on a busy machine.
LATEST_CUT = DEADLINE * 1.125
SLACK = 1.5


def seconds_until_cut(client: socket.socket, drip: bool) -> float:
    """Send nothing (or a byte every 0.1 s) until the server ends the connection; how long."""
    started = time.monotonic()
    with client:
        while time.monotonic() - started < WAIT:
            if drip:
                try:
                    client.send(b"x")  # never a newline: the request never ends by itself
                except OSError:
                    break
            readable, _, _ = select.select([client], [], [], 0.1)
            if readable:
                try:
                    if not client.recv(64):
                        break
                except OSError:
                    break
    return time.monotonic() - started


def test_idle_and_dripping_clients_are_cut_and_the_polite_one_is_served(
    run_server: RunServer, model: Model
) -> None:
    at_once = AT_ONCE.get(model.name, SLOW_CLIENTS)
    # Each worker holds its share of the slow clients, one after another.
    polite_wait = (IDLE_CLIENTS * IDLE_TIMEOUT + DRIPPERS * LATEST_CUT) / at_once + SLACK
    with (
        run_server(**SETTINGS) as run,
        ThreadPoolExecutor(max_workers=SLOW_CLIENTS) as slow,
    ):
        slow_ones = [
            slow.submit(seconds_until_cut, connect(run.address), drip)
            for drip in [False] * IDLE_CLIENTS + [True] * DRIPPERS
        ]
        time.sleep(0.1)  # the slow ones hold every worker of a bounded model now
        started = time.monotonic()
        run.assert_serves()
        waited = time.monotonic() - started
        assert waited < polite_wait, f"the polite client waited {waited:.2f} s"
        held = [future.result(WAIT * 2) for future in slow_ones]
        assert max(held) < polite_wait, held  # every slow client was cut, none outlasted
        run.settle(accepted_at_least=SLOW_CLIENTS + 1)
        run.assert_serves()
