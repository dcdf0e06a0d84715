"""Fixtures shared by every package's tests.

Everything here uses loopback only and bounds every wait, so a broken server
fails a test instead of hanging the run.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sockserve.core.testing import Servable, serving

#: The longest any test waits for a thread, a connection or a reply.
WAIT = 10.0


@pytest.fixture
def serve() -> Iterator[Callable[..., threading.Thread]]:
    """Start ``server.serve_forever`` in the background; drain, join and close it at teardown.

    ``serve(server, poll_interval=0.01)`` returns the serving thread. Built on
    sockserve's own test helper (`sockserve.core.testing.serving`).
    """
    with contextlib.ExitStack() as stack:

        def start(server: Servable, poll_interval: float = 0.01) -> threading.Thread:
            served = stack.enter_context(serving(server, poll_interval=poll_interval, wait=WAIT))
            return served.thread

        yield start


@pytest.fixture
def sock_dir() -> Iterator[str]:
    """A fresh, short directory for socket files, removed with its contents at teardown.

    Under /tmp with a short name: Linux caps a socket path at 107 bytes, and
    pytest's ``tmp_path`` can be longer.
    """
    directory = tempfile.mkdtemp(prefix="ss-", dir="/tmp")
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


#: The project's root: scripts run from there can import ``tests.…``.
ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def script_server(
    source: str, *, stdin: bool = False
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """Run ``python -c source`` from the project root; yield it and its first line of output.

    The script prints where it listens (or anything) as its first line; the
    test reads the rest from ``process.stdout`` (and, with ``stdin``, writes
    to ``process.stdin``). At the end the process is killed if it still runs
    (by its PID), reaped, and its pipes closed.
    """
    process = subprocess.Popen(
        [sys.executable, "-c", source],
        stdin=subprocess.PIPE if stdin else None,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert process.stdout is not None
        yield process, process.stdout.readline().strip()
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(WAIT)
        for pipe in (process.stdin, process.stdout):
            if pipe is not None:
                pipe.close()
