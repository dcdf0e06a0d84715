"""Out of descriptors: the server neither spins nor dies, logs once, and serves again.

The server runs in a child process whose ``RLIMIT_NOFILE`` leaves room for
a few connections; the test holds many more open. Accepting then fails with
EMFILE: the accept back-off must keep the child's CPU low (a busy loop
would use a whole core), log the condition once for the episode, and take
the waiting connections as descriptors free up, every one served.

Left out: the sync server, which holds one connection at a time, and
forking, whose parent closes each connection once it has forked (its
children run out of processes first: ``RLIMIT_NPROC``). Each prefork worker
is a process of its own, with its own episode to log.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time

import pytest

from harness.procstat import sample_tree
from tests.conftest import ROOT

from .conftest import WAIT
from .models import Model

#: Descriptors left free for connections (the rest of the limit is the process's own).
ROOM = 12
#: Connections held at once: far more than the room.
HELD = 60
#: How long the CPU is measured for, while exhausted.
MEASURED = 2.0

SERVER = """
import logging, os, resource, sys
logging.basicConfig(stream=sys.stdout, level=logging.WARNING, format="LOG %(message)s")
from tests.reliability.models import BY_NAME, address_of, build
server = build(BY_NAME[{model!r}], quiet_disconnects=True, pool_size=100, max_threads=100)
limit = len(os.listdir("/proc/self/fd")) + {room}
resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))
print(address_of(server)[1], flush=True)
server.serve_forever()
"""


class Child:
    """The server's process, and the lines it prints, read as they come."""

    def __init__(self, model: Model) -> None:
        source = SERVER.format(model=model.name, room=ROOM)
        self.process = subprocess.Popen(
            [sys.executable, "-c", source], stdout=subprocess.PIPE, text=True, cwd=ROOT
        )
        assert self.process.stdout is not None
        self.port = int(self.process.stdout.readline())
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    def cpu_seconds(self) -> float:
        """CPU time (user and system, every thread) of the process and its children so far."""
        return sample_tree(self.process.pid).cpu_s

    def warnings(self) -> list[str]:
        return [line for line in self.lines if line.startswith("LOG ")]

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(WAIT)
        self._reader.join(WAIT)
        assert self.process.stdout is not None
        self.process.stdout.close()


def test_out_of_descriptors_backs_off_logs_once_and_recovers(model: Model) -> None:
    if model.name in ("sync", "forking"):
        pytest.skip("this model never holds many connections in one process")
    episodes = 2 if model.name == "prefork" else 1  # one per process
    child = Child(model)
    clients: list[socket.socket] = []
    try:
        address = ("127.0.0.1", child.port)
        clients = [socket.create_connection(address, timeout=WAIT) for _ in range(HELD)]
        time.sleep(1.0)  # the room is taken, and accept() has started failing
        before = child.cpu_seconds()
        time.sleep(MEASURED)
        cpu = (child.cpu_seconds() - before) / MEASURED
        print(f"\n{model.name}: {cpu:.1%} of a core while out of descriptors")
        assert cpu < 0.10, f"{cpu:.0%} of a core: the server spins"
        assert len(child.warnings()) == episodes, child.warnings()
        assert "Too many open files" in child.warnings()[0]
        for n, client in enumerate(clients):  # each frees its descriptor once served
            with client:
                client.sendall(b"%d\n" % n)
                assert client.makefile("rb").readline() == b"%d\n" % n
        with socket.create_connection(address, timeout=WAIT) as polite:
            polite.sendall(b"hello\n")
            assert polite.makefile("rb").readline() == b"hello\n"
        assert child.process.poll() is None, "the server died"
        assert len(child.warnings()) == episodes, "one episode, one line"
    finally:
        for client in clients:
            client.close()
        child.stop()
