"""Fixtures shared by every package's tests.

Everything here uses loopback only and bounds every wait, so a broken server
fails a test instead of hanging the run.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from typing import Protocol

import pytest

#: The longest any test waits for a thread, a connection or a reply.
WAIT = 10.0


class Servable(Protocol):
    def serve_forever(self, poll_interval: float = ...) -> None: ...
    def shutdown(self) -> None: ...
    def server_close(self) -> None: ...


@pytest.fixture
def serve() -> Iterator[Callable[..., threading.Thread]]:
    """Start ``server.serve_forever`` in a daemon thread; stop it at teardown.

    ``serve(server, poll_interval=0.01)`` returns the thread. At teardown each
    server still running is shut down, closed and joined (within `WAIT`).
    """
    running: list[tuple[Servable, threading.Thread]] = []

    def start(server: Servable, poll_interval: float = 0.01) -> threading.Thread:
        thread = threading.Thread(
            target=server.serve_forever, args=(poll_interval,), daemon=True, name="serve_forever"
        )
        thread.start()
        running.append((server, thread))
        return thread

    yield start
    for server, thread in running:
        if thread.is_alive():
            stopper = threading.Thread(target=server.shutdown, daemon=True)
            stopper.start()
            stopper.join(WAIT)
        server.server_close()
        thread.join(WAIT)
        assert not thread.is_alive(), "serve_forever did not return"


@pytest.fixture
def sock_dir() -> Iterator[str]:
    """A fresh, short directory for socket files, removed with its contents at teardown.

    Under /tmp with a short name: Linux caps a socket path at 107 bytes, and
    pytest's ``tmp_path`` can be longer.
    """
    directory = tempfile.mkdtemp(prefix="ss-", dir="/tmp")
    yield directory
    shutil.rmtree(directory, ignore_errors=True)
