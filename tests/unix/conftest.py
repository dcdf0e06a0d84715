"""Fixtures for the Unix servers' tests: short socket paths, clients, stale and live sockets.

Every socket file lives in a fresh directory under /tmp with a short name
(Linux caps a socket path at 107 bytes and pytest's ``tmp_path`` can be
longer). Every client socket has a `WAIT` timeout; every socket, server and
child process is closed or killed at teardown.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import socket
import socketserver
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol, TypeAlias, TypeVar

import pytest

from sockserve.core import DatagramRequestHandler, ServerLifecycleProtocol, StreamRequestHandler
from tests.conftest import WAIT

if not hasattr(socket, "AF_UNIX"):
    pytest.skip("Unix-domain sockets need socket.AF_UNIX", allow_module_level=True)

# After the skip: the package cannot even be imported without AF_UNIX.
from sockserve.unix import (
    UnixAddress,
    UnixDatagramAddress,
    UnixDatagramServer,
    UnixStreamServer,
)

__all__ = ["WAIT"]

#: The ``serve`` fixture of tests/conftest.py: ``serve(server)`` runs ``serve_forever``.
Serve: TypeAlias = Callable[..., threading.Thread]

ON_LINUX = sys.platform.startswith("linux")
linux_only = pytest.mark.skipif(not ON_LINUX, reason="Linux behaviour (abstract names, limits)")


# ---------------------------------------------------------------------------- paths


@pytest.fixture
def sock_path(sock_dir: str) -> str:
    """A path in `sock_dir` where nothing exists yet."""
    return os.path.join(sock_dir, "server.sock")


def inode(path: str | bytes) -> tuple[int, int]:
    """``(st_dev, st_ino)`` of ``path`` itself (not following a symbolic link)."""
    info = os.lstat(path)
    return info.st_dev, info.st_ino


def leave_stale_socket_file(path: str, kind: int = socket.SOCK_STREAM) -> None:
    """Bind a socket of type ``kind`` to ``path`` and close it: its file stays, stale."""
    with socket.socket(socket.AF_UNIX, kind) as sock:
        sock.bind(path)


@contextlib.contextmanager
def umask(mask: int) -> Iterator[None]:
    """Run the block with the process umask set to ``mask``; restore it after."""
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


# ---------------------------------------------------------------------------- handlers


class Reader(Protocol):
    def __iter__(self) -> Iterator[bytes]: ...
    def read(self) -> bytes: ...


class Writer(Protocol):
    def write(self, data: bytes, /) -> object: ...


def echo(rfile: Reader, wfile: Writer) -> None:
    """The one echo body every handler here runs: copy the request to the reply."""
    for line in rfile:
        wfile.write(line)


def reply_with(client_address: object, rfile: Reader, wfile: Writer) -> None:
    """The one "who am I" body: read the request, reply with the client's address's repr."""
    rfile.read()
    wfile.write(repr(client_address).encode())


class StreamEcho(StreamRequestHandler[UnixStreamServer, UnixAddress]):
    def handle(self) -> None:
        echo(self.rfile, self.wfile)


class DatagramEcho(DatagramRequestHandler[UnixDatagramServer, UnixDatagramAddress]):
    def handle(self) -> None:
        echo(self.rfile, self.wfile)


class StdlibStreamEcho(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        echo(self.rfile, self.wfile)


class StdlibDatagramEcho(socketserver.DatagramRequestHandler):
    def handle(self) -> None:
        echo(self.rfile, self.wfile)


class StreamWhoAmI(StreamRequestHandler[UnixStreamServer, UnixAddress]):
    def handle(self) -> None:
        reply_with(self.client_address, self.rfile, self.wfile)


class DatagramWhoAmI(DatagramRequestHandler[UnixDatagramServer, UnixDatagramAddress]):
    def handle(self) -> None:
        reply_with(self.client_address, self.rfile, self.wfile)


class StdlibStreamWhoAmI(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        reply_with(self.client_address, self.rfile, self.wfile)


class StdlibDatagramWhoAmI(socketserver.DatagramRequestHandler):
    def handle(self) -> None:
        reply_with(self.client_address, self.rfile, self.wfile)


@dataclass(frozen=True)
class Flavour:
    """One implementation of the Unix servers, with its own echo handlers."""

    name: str
    stream_server: Callable[..., ServerLifecycleProtocol]
    datagram_server: Callable[..., ServerLifecycleProtocol]
    stream_echo: Callable[..., object]
    datagram_echo: Callable[..., object]
    stream_whoami: Callable[..., object]
    datagram_whoami: Callable[..., object]


STDLIB = Flavour(
    "stdlib",
    socketserver.UnixStreamServer,
    socketserver.UnixDatagramServer,
    StdlibStreamEcho,
    StdlibDatagramEcho,
    StdlibStreamWhoAmI,
    StdlibDatagramWhoAmI,
)
SOCKSERVE = Flavour(
    "sockserve",
    UnixStreamServer,
    UnixDatagramServer,
    StreamEcho,
    DatagramEcho,
    StreamWhoAmI,
    DatagramWhoAmI,
)
FLAVOURS = (STDLIB, SOCKSERVE)


@pytest.fixture(params=FLAVOURS, ids=[f.name for f in FLAVOURS])
def flavour(request: pytest.FixtureRequest) -> Flavour:
    chosen: Flavour = request.param
    return chosen


# ---------------------------------------------------------------------------- servers

S = TypeVar("S", bound=ServerLifecycleProtocol)


class MakeServer(Protocol):
    def __call__(self, factory: Callable[..., S], *args: object, **kwargs: object) -> S: ...


@pytest.fixture
def make_server() -> Iterator[MakeServer]:
    """``make_server(cls, address, handler, ...)``: a server closed at teardown."""
    made: list[ServerLifecycleProtocol] = []

    def make(factory: Callable[..., S], *args: object, **kwargs: object) -> S:
        server = factory(*args, **kwargs)
        made.append(server)
        return server

    yield make
    for server in made:
        server.server_close()


# ---------------------------------------------------------------------------- clients


def stream_exchange(address: UnixAddress, payload: bytes) -> bytes:
    """Connect, send ``payload`` and EOF, and return everything read before the server's EOF."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(WAIT)
        client.connect(address)
        if payload:  # the server may already have closed: sendall(b"") would fail
            client.sendall(payload)
        client.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := client.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


class DatagramClients:
    """Datagram client sockets with a `WAIT` timeout, closed at teardown."""

    def __init__(self, directory: str) -> None:
        self._directory = directory
        self._sockets: list[socket.socket] = []

    def unbound(self) -> socket.socket:
        """A client that never binds: the server sees its address as None."""
        client = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        client.settimeout(WAIT)
        self._sockets.append(client)
        return client

    def bound(self) -> socket.socket:
        """A client bound to a fresh path, so that it can receive replies."""
        client = self.unbound()
        client.bind(os.path.join(self._directory, f"client{len(self._sockets)}.sock"))
        return client

    def exchange(self, address: UnixAddress, payload: bytes) -> bytes:
        """Send ``payload`` from a new bound client; return the one reply datagram."""
        client = self.bound()
        client.sendto(payload, address)
        return client.recv(65536)

    def close(self) -> None:
        for client in self._sockets:
            client.close()


@pytest.fixture
def datagram_clients(sock_dir: str) -> Iterator[DatagramClients]:
    clients = DatagramClients(sock_dir)
    yield clients
    clients.close()


# ---------------------------------------------------------------------------- other processes

# Binds argv[1] as argv[2] says, reports "ready", then waits to be killed.
_HOLDER = """
import socket, sys, time
kind = sys.argv[2]
sock_type = socket.SOCK_DGRAM if kind == "datagram" else socket.SOCK_STREAM
sock = socket.socket(socket.AF_UNIX, sock_type)
sock.bind(sys.argv[1])
if kind == "listening":
    sock.listen()
print("ready", flush=True)
time.sleep(3600)
"""


class Holder:
    """Another process that holds a socket bound to a path."""

    def __init__(self, path: str, kind: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", _HOLDER, path, kind], stdout=subprocess.PIPE
        )
        assert self.process.stdout is not None
        self._stdout = self.process.stdout

    def await_ready(self) -> None:
        """Wait (within `WAIT`) until the socket is bound."""
        with selectors.DefaultSelector() as selector:
            selector.register(self._stdout, selectors.EVENT_READ)
            ready = selector.select(WAIT)
        assert ready, f"process {self.process.pid} did not bind within {WAIT} s"
        assert self._stdout.readline() == b"ready\n"

    def kill(self) -> None:
        """Kill the process (it never unlinks its socket file) and reap it."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(WAIT)
        self._stdout.close()


class HoldSocket(Protocol):
    def __call__(self, path: str, kind: str = ...) -> Holder: ...


@pytest.fixture
def hold_socket() -> Iterator[HoldSocket]:
    """``hold_socket(path, kind)``: a child process with a socket bound to ``path``.

    ``kind`` is ``"listening"`` (a stream server), ``"bound"`` (a stream
    socket not yet listening) or ``"datagram"``. Killed at teardown.
    """
    holders: list[Holder] = []

    def hold(path: str, kind: str = "listening") -> Holder:
        holder = Holder(path, kind)
        holders.append(holder)  # before waiting: a child that hangs is killed too
        holder.await_ready()
        return holder

    yield hold
    for holder in holders:
        holder.kill()


# ---------------------------------------------------------------------------- audit events

AuditEvents: TypeAlias = list[tuple[str, object]]

_recording: AuditEvents | None = None
_recording_thread: int | None = None
# What each watched event records: the argument that says what was touched.
_WATCHED_ARGUMENT = {"socket.__new__": 0, "os.chmod": 0, "socket.bind": 1, "os.remove": 0}


_actions: dict[str, Callable[[], object]] = {}


def _audit(event: str, args: tuple[object, ...]) -> None:
    if _recording is None or threading.get_ident() != _recording_thread:
        return
    if event in _actions:
        _actions.pop(event)()  # popped first: its own calls are audited too
    if event not in _WATCHED_ARGUMENT:
        return
    _recording.append((event, args[_WATCHED_ARGUMENT[event]]))
    if event == "os.chmod" and isinstance(args[0], str | bytes):
        # The file's mode at the moment before the chmod changes it.
        _recording.append(("mode before chmod", os.lstat(args[0]).st_mode & 0o7777))


_hook_installed = False


@pytest.fixture
def audit_events() -> Iterator[AuditEvents]:
    """Record the sockets made and the chmod, bind and unlink calls of the test's thread.

    Audit hooks cannot be removed, so one is installed for the session and
    records only while this fixture is active. Each entry is ``(event,
    target)``: the socket created, the path or descriptor chmod-ed, the
    address bound, the path removed; a chmod of a path is followed by
    ``("mode before chmod", mode)``.
    """
    global _recording, _recording_thread, _hook_installed
    if not _hook_installed:
        sys.addaudithook(_audit)
        _hook_installed = True
    events: AuditEvents = []
    _recording, _recording_thread = events, threading.get_ident()
    try:
        yield events
    finally:
        _recording = _recording_thread = None
        _actions.clear()


class BeforeNext(Protocol):
    def __call__(self, event: str, action: Callable[[], object]) -> None: ...


@pytest.fixture
def before_next(audit_events: AuditEvents) -> BeforeNext:
    """``before_next(event, action)``: run ``action()`` once, when the test's thread
    next raises the audit ``event`` (e.g. ``"socket.connect"``), before that call proceeds.

    Lets a test act at an exact point inside a server's code, as another
    process racing it could, without replacing any of that code.
    """

    def register(event: str, action: Callable[[], object]) -> None:
        _actions[event] = action

    return register


def only(events: AuditEvents, *kinds: str) -> AuditEvents:
    """The events of the given kinds, in order."""
    return [event for event in events if event[0] in kinds]


def sockets_made(events: AuditEvents) -> list[socket.socket]:
    """The sockets created while the events were recorded."""
    return [sock for kind, sock in events if isinstance(sock, socket.socket)]
