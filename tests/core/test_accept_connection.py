"""`accept_connection` gives what ``socket.accept()`` gives, whatever the listener."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import trustme

from sockserve.core import accept_connection

Accept = Callable[[socket.socket], tuple[socket.socket, object]]


def _plain_accept(listener: socket.socket) -> tuple[socket.socket, object]:
    return listener.accept()


@pytest.fixture
def default_timeout() -> Iterator[None]:
    saved = socket.getdefaulttimeout()
    yield
    socket.setdefaulttimeout(saved)


def _connect_and_accept(
    listener: socket.socket, accept: Accept, connect_to: object
) -> tuple[socket.socket, object, socket.socket]:
    client = socket.socket(listener.family, listener.type)
    client.settimeout(5)
    client.connect(connect_to)  # type: ignore[arg-type]  # an inet pair or a path, as bound
    connection, address = accept(listener)
    return connection, address, client


def _describe(connection: socket.socket) -> tuple[object, ...]:
    return (
        type(connection),
        connection.family,
        connection.type,
        connection.proto,
        connection.gettimeout(),
        connection.getblocking(),
        connection.get_inheritable(),
    )


def _listener(family: socket.AddressFamily, where: Path) -> tuple[socket.socket, object]:
    listener = socket.socket(family, socket.SOCK_STREAM)
    if family == socket.AF_UNIX:
        listener.bind(str(where / "s"))
    else:
        listener.bind(("127.0.0.1" if family == socket.AF_INET else "::1", 0))
    listener.listen(4)
    return listener, listener.getsockname()


@pytest.mark.usefixtures("default_timeout")
@pytest.mark.parametrize("family", [socket.AF_INET, socket.AF_INET6, socket.AF_UNIX])
@pytest.mark.parametrize("listener_timeout", [None, 0.0, 5.0])
@pytest.mark.parametrize("default", [None, 7.0])
def test_the_connection_is_the_one_accept_gives(
    tmp_path: Path,
    family: socket.AddressFamily,
    listener_timeout: float | None,
    default: float | None,
) -> None:
    socket.setdefaulttimeout(default)
    described: list[tuple[object, ...]] = []
    addresses: list[bool] = []
    for accept in (_plain_accept, accept_connection):
        where = tmp_path / accept.__name__
        where.mkdir()
        listener, connect_to = _listener(family, where)
        client: socket.socket | None = None
        try:
            listener.settimeout(listener_timeout)  # 0.0: non-blocking, so the peer comes first
            connection, address, client = _connect_and_accept(listener, accept, connect_to)
            with connection:
                described.append(_describe(connection))
                addresses.append(address == client.getsockname())
                connection.sendall(b"ping")
                assert client.recv(4) == b"ping"
        finally:
            listener.close()
            if client is not None:
                client.close()
    assert described[0] == described[1]
    assert addresses == [True, True]


def test_a_non_blocking_listener_with_none_waiting_raises_as_accept_does() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.setblocking(False)
        with pytest.raises(BlockingIOError):
            listener.accept()
        with pytest.raises(BlockingIOError):
            accept_connection(listener)


def test_a_listener_past_its_timeout_raises_timeout_error() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(0.01)
        with pytest.raises(TimeoutError):
            accept_connection(listener)


def test_a_closed_listener_raises_what_accept_raises() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    listener.close()
    with pytest.raises(OSError, match="Bad file descriptor") as by_accept:
        listener.accept()
    with pytest.raises(OSError, match="Bad file descriptor") as ours:
        accept_connection(listener)
    assert ours.value.errno == by_accept.value.errno


def test_a_socket_subclass_keeps_its_own_accept() -> None:
    """An SSLSocket listener's accept() wraps each connection: that must still happen."""
    authority = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("localhost").configure_cert(server_context)
    client_context = ssl.create_default_context()
    authority.configure_trust(client_context)
    with (
        server_context.wrap_socket(
            socket.create_server(("127.0.0.1", 0)), server_side=True, do_handshake_on_connect=False
        ) as listener,
        socket.create_connection(listener.getsockname(), timeout=5) as raw,
    ):
        connection, _ = accept_connection(listener)
        with connection:
            assert isinstance(connection, ssl.SSLSocket)
            assert not isinstance(raw, ssl.SSLSocket)
