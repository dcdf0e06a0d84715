# mypy: allow-subclassing-any
"""Fixtures for the differential tests: one test body, run on the stdlib and on sockserve.

A `Flavour` bundles one implementation's classes. A test either takes the
parametrised ``flavour`` fixture (ids ``stdlib`` and ``sockserve``) and asserts
a concrete expectation, or takes ``differential`` to run a function on both
flavours and assert that the two results are equal.

Every socket is on loopback with a `WAIT` timeout, every server and client
socket is closed at teardown and every thread is a daemon joined within `WAIT`.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeAlias, TypeVar, cast

import pytest

import sockserve.core
import sockserve.inet
from tests.conftest import WAIT

T = TypeVar("T")

#: An IPv4 ``(host, port)`` or IPv6 ``(host, port, flowinfo, scope_id)`` address.
Address: TypeAlias = tuple[Any, ...]

#: `record_hooks` (the ``recording`` fixture): a server class -> its recording subclass.
Recorder: TypeAlias = Callable[[type[Any]], type[Any]]
#: `record_steps` (the ``recording_handler`` fixture): a handler class -> its recording subclass.
StepRecorder: TypeAlias = Callable[..., type[Any]]
#: The ``serve`` fixture of tests/conftest.py.
Serve: TypeAlias = Callable[..., threading.Thread]

HOST = "127.0.0.1"
ANY_PORT: Address = (HOST, 0)

#: The `BaseServer` hooks a `record_hooks` subclass records, in `calls`.
HOOKS = (
    "verify_request",
    "process_request",
    "finish_request",
    "shutdown_request",
    "close_request",
    "handle_error",
    "handle_timeout",
    "service_actions",
)


@dataclass(frozen=True)
class Flavour:
    """One implementation of the socketserver API."""

    name: str
    BaseServer: Any
    TCPServer: Any
    UDPServer: Any
    BaseRequestHandler: Any
    StreamRequestHandler: Any
    DatagramRequestHandler: Any


STDLIB = Flavour(
    name="stdlib",
    BaseServer=socketserver.BaseServer,
    TCPServer=socketserver.TCPServer,
    UDPServer=socketserver.UDPServer,
    BaseRequestHandler=socketserver.BaseRequestHandler,
    StreamRequestHandler=socketserver.StreamRequestHandler,
    DatagramRequestHandler=socketserver.DatagramRequestHandler,
)
SOCKSERVE = Flavour(
    name="sockserve",
    BaseServer=sockserve.core.BaseServer,
    TCPServer=sockserve.inet.TCPServer,
    UDPServer=sockserve.inet.UDPServer,
    BaseRequestHandler=sockserve.core.BaseRequestHandler,
    StreamRequestHandler=sockserve.core.StreamRequestHandler,
    DatagramRequestHandler=sockserve.core.DatagramRequestHandler,
)
FLAVOURS = (STDLIB, SOCKSERVE)

#: Makes a handler class for a flavour (the ``echo_handler`` fixture).
HandlerFactory: TypeAlias = Callable[[Flavour], type[Any]]


@pytest.fixture(params=FLAVOURS, ids=[f.name for f in FLAVOURS])
def flavour(request: pytest.FixtureRequest) -> Flavour:
    chosen: Flavour = request.param
    return chosen


class Differential(Protocol):
    def __call__(self, run: Callable[[Flavour], T]) -> T: ...


def _run_both(run: Callable[[Flavour], T]) -> T:
    stdlib, ours = (run(f) for f in FLAVOURS)
    assert stdlib == ours, f"stdlib gave {stdlib!r}, sockserve gave {ours!r}"
    return stdlib


@pytest.fixture
def differential() -> Differential:
    """``differential(run)``: run ``run(flavour)`` for both; assert equal results; return one."""
    return _run_both


class MakeServer(Protocol):
    def __call__(
        self, cls: type[Any], handler: type[Any], address: Address = ..., **kwargs: Any
    ) -> Any: ...


@pytest.fixture
def make_server() -> Iterator[MakeServer]:
    """``make_server(cls, handler, address=ANY_PORT, **kwargs)``, closed at teardown.

    Its ``timeout`` is `WAIT`, so a ``handle_request()`` whose client never
    arrives fails the test instead of hanging it; tests of the timeout set their own.
    """
    made: list[Any] = []

    def make(cls: type[Any], handler: type[Any], address: Address = ANY_PORT, **kwargs: Any) -> Any:
        server = cls(address, handler, **kwargs)
        made.append(server)
        server.timeout = WAIT
        return server

    yield make
    for server in made:
        server.server_close()


class Worker(Generic[T]):
    """Runs one call in a daemon thread; `result` joins it (within `WAIT`) and re-raises."""

    def __init__(self, call: Callable[..., T], args: Sequence[Any]) -> None:
        self._call = call
        self._args = args
        self._value: T | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True, name="test-worker")
        self._thread.start()

    def _run(self) -> None:
        try:
            self._value = self._call(*self._args)
        except BaseException as exc:
            self._error = exc

    def running_after(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for the call to end; return whether it is still running."""
        self._thread.join(seconds)
        return self._thread.is_alive()

    def result(self) -> T:
        assert not self.running_after(WAIT), f"{self._call!r} did not return within {WAIT} s"
        if self._error is not None:
            raise self._error
        return cast(T, self._value)


def _read_to_eof(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


class Client:
    """Loopback clients and helper threads, all bounded by `WAIT` and cleaned up at teardown."""

    def __init__(self) -> None:
        self._sockets: list[socket.socket] = []
        self._workers: list[Worker[Any]] = []

    def connect(self, address: Address) -> socket.socket:
        """A connected TCP socket with a `WAIT` timeout (closed at teardown if still open)."""
        sock = socket.create_connection(address[:2], timeout=WAIT)
        self._sockets.append(sock)
        return sock

    def exchange(self, address: Address, payload: bytes, half_close: bool = True) -> bytes:
        """Send ``payload`` (and EOF if ``half_close``); return what comes back before EOF."""
        with self.connect(address) as sock:
            sock.sendall(payload)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
            return _read_to_eof(sock)

    def converse(self, address: Address, lines: Sequence[bytes]) -> list[bytes]:
        """Send each line and read one reply line; then send EOF and read the rest."""
        with self.connect(address) as sock, sock.makefile("rb") as reader:
            replies = []
            for line in lines:
                sock.sendall(line)
                replies.append(reader.readline())
            sock.shutdown(socket.SHUT_WR)
            replies.append(reader.read())
        return replies

    def datagram(self, address: Address, payload: bytes) -> bytes:
        """Send one UDP datagram and return the one reply datagram."""
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(WAIT)
            sock.sendto(payload, address)
            return sock.recv(65536)

    def start(self, call: Callable[..., T], *args: Any) -> Worker[T]:
        """Run ``call(*args)`` in a daemon thread (e.g. a client while the test serves)."""
        worker = Worker(call, args)
        self._workers.append(worker)
        return worker

    def close(self) -> None:
        for sock in self._sockets:  # wakes a worker blocked in recv() on a failing test
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for worker in self._workers:
            worker.running_after(WAIT)
        for sock in self._sockets:
            sock.close()


@pytest.fixture
def client() -> Iterator[Client]:
    helper = Client()
    yield helper
    helper.close()


def _recorded(base: type[Any], name: str) -> Callable[..., Any]:
    implementation = getattr(base, name)

    def hook(self: Any, *args: Any) -> Any:
        self.calls.append(name)
        return implementation(self, *args)

    hook.__name__ = name
    return hook


def record_hooks(base: type[Any]) -> type[Any]:
    """Subclass ``base`` so that every hook in `HOOKS` appends its name to ``self.calls``.

    Each hook then calls ``base``'s own. ``handle_error`` also appends the type of
    the exception being handled (``sys.exc_info()[0]``) to ``self.errors``.
    """

    class Recording(base):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self.calls: list[str] = []
            self.errors: list[type[BaseException] | None] = []
            base.__init__(self, *args, **kwargs)

        def handle_error(self, request: Any, client_address: Any) -> None:
            self.errors.append(sys.exc_info()[0])
            self.calls.append("handle_error")
            base.handle_error(self, request, client_address)

    for name in HOOKS:
        if name != "handle_error":
            setattr(Recording, name, _recorded(base, name))
    Recording.__name__ = Recording.__qualname__ = f"Recording{base.__name__}"
    return Recording


def record_steps(
    base: type[Any], fail_in: str = "", error: type[BaseException] = ValueError
) -> type[Any]:
    """Subclass a handler so that setup/handle/finish append their names to ``server.calls``.

    The step named ``fail_in`` (if any) raises ``error("boom")`` after recording itself.
    """

    def step(name: str) -> Callable[[Any], None]:
        def run(self: Any) -> None:
            self.server.calls.append(name)
            if name == fail_in:
                raise error("boom")

        return run

    steps = {name: step(name) for name in ("setup", "handle", "finish")}
    return type(f"Recording{base.__name__}", (base,), steps)


@pytest.fixture
def recording() -> Recorder:
    """`record_hooks`: a server class that records its hook calls in ``calls``."""
    return record_hooks


@pytest.fixture
def recording_handler() -> StepRecorder:
    """`record_steps`: a handler class that records its steps in ``server.calls``."""
    return record_steps


#: The lines `echo_handler` clients send, and what they get back.
ECHO_LINES = (b"alpha\n", b"beta gamma\n", b"\n", b"\xff\x00binary\n")
ECHO_REPLIES = [b"echo:" + line for line in ECHO_LINES] + [b"bye\n"]


def make_echo_handler(flavour: Flavour) -> type[Any]:
    """A StreamRequestHandler echoing each line with an ``echo:`` prefix, then ``bye``."""

    base: Any = flavour.StreamRequestHandler

    class Echo(base):
        def handle(self) -> None:
            for line in self.rfile:
                self.wfile.write(b"echo:" + line)
            self.wfile.write(b"bye\n")

    return Echo


@pytest.fixture
def echo_handler() -> HandlerFactory:
    """`make_echo_handler`; talk to it with ``client.converse(address, ECHO_LINES)``."""
    return make_echo_handler


@pytest.fixture
def echo_lines() -> tuple[bytes, ...]:
    return ECHO_LINES


@pytest.fixture
def echo_replies() -> list[bytes]:
    """What ``client.converse(address, echo_lines)`` returns from an echo handler."""
    return list(ECHO_REPLIES)
