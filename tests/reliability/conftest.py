"""The reliability suite: one scenario, parametrised by model (see ``models.py``).

Every scenario ends with a well-behaved client served, and checks with the
live counters that nothing was lost. Servers run on 127.0.0.1 in the
background through ``sockserve.core.testing.serving``, bounded in time.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable, Iterator

import pytest

from sockserve.core import RequestCounts
from sockserve.core.testing import Served, serving

from .models import MODELS, Model, address_of, ask, balanced, build, counts_of

#: The longest any wait here lasts.
WAIT = 10.0


@pytest.fixture(params=MODELS, ids=[model.name for model in MODELS])
def model(request: pytest.FixtureRequest) -> Model:
    found: Model = request.param
    return found


class Run:
    """A server of one model, serving in the background for one scenario."""

    def __init__(self, served: Served, model: Model) -> None:
        self.served = served
        self.model = model
        self.address = address_of(served.server)

    def counts(self) -> RequestCounts:
        return counts_of(self.served.server)

    def settle(self, accepted_at_least: int) -> RequestCounts:
        """Wait until ``accepted_at_least`` were accepted and none is active; return the counts."""
        deadline = time.monotonic() + WAIT
        counts = self.counts()
        while counts.accepted < accepted_at_least or counts.active:
            assert time.monotonic() < deadline, f"never settled: {counts}"
            time.sleep(0.02)
            counts = self.counts()
        assert balanced(counts), counts
        return counts

    def assert_serves(self) -> None:
        """A well-behaved client is served: what every scenario ends with."""
        assert ask(self.address) == b"hello\n"


RunServer = Callable[..., contextlib.AbstractContextManager[Run]]


@pytest.fixture
def run_server(model: Model) -> RunServer:
    """``with run_server(**settings) as run``: a server of this model, drained at the end."""

    @contextlib.contextmanager
    def start(**settings: object) -> Iterator[Run]:
        settings.setdefault("quiet_disconnects", True)
        with serving(build(model, **settings), drain_timeout=2.0) as served:
            wait_for_workers(served.server)
            yield Run(served, model)

    return start


def wait_for_workers(server: object) -> None:
    """Wait until a ``Prefork``'s workers are forked: one forked later would inherit clients."""
    pids = getattr(server, "worker_pids", None)
    if pids is None:
        return
    deadline = time.monotonic() + WAIT
    while len(pids()) < server.workers:  # type: ignore[attr-defined]  # a Prefork
        assert time.monotonic() < deadline, "the workers did not start"
        time.sleep(0.01)


def connect(address: tuple[str, int]) -> socket.socket:
    return socket.create_connection(address, timeout=WAIT)


def reset(client: socket.socket) -> None:
    """Close with an RST, as a client that crashed or lost its network does."""
    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    client.close()
