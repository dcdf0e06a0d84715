"""Binding over a stale socket file replaces it; nothing else at the path is ever removed."""

from __future__ import annotations

import errno
import os
import socket

import pytest

from sockserve.core import BaseRequestHandler
from sockserve.unix import UnixDatagramServer, UnixStreamServer

from .conftest import (
    WAIT,
    AuditEvents,
    BeforeNext,
    DatagramClients,
    DatagramEcho,
    HoldSocket,
    MakeServer,
    Serve,
    StreamEcho,
    inode,
    leave_stale_socket_file,
    only,
    stream_exchange,
)

SERVER_CLASSES = [UnixStreamServer, UnixDatagramServer]
ServerClass = type[UnixStreamServer] | type[UnixDatagramServer]
Server = UnixStreamServer | UnixDatagramServer
STALE_KINDS = [
    pytest.param(socket.SOCK_STREAM, id="stream"),
    pytest.param(socket.SOCK_DGRAM, id="dgram"),
]


def assert_serves(server: Server, serve: Serve, clients: DatagramClients) -> None:
    serve(server)
    if isinstance(server, UnixStreamServer):
        assert stream_exchange(server.server_address, b"hello\n") == b"hello\n"
    else:
        assert clients.exchange(server.server_address, b"hello\n") == b"hello\n"


def echo_server(server_class: ServerClass, path: str, make_server: MakeServer) -> Server:
    if server_class is UnixStreamServer:
        return make_server(UnixStreamServer, path, StreamEcho)
    return make_server(UnixDatagramServer, path, DatagramEcho)


@pytest.mark.parametrize("server_class", SERVER_CLASSES)
@pytest.mark.parametrize(
    "stale_kind", [socket.SOCK_STREAM, socket.SOCK_DGRAM], ids=["stream", "datagram"]
)
def test_a_stale_socket_file_is_replaced(
    server_class: ServerClass,
    stale_kind: int,
    sock_path: str,
    make_server: MakeServer,
    serve: Serve,
    datagram_clients: DatagramClients,
) -> None:
    leave_stale_socket_file(sock_path, stale_kind)
    server = echo_server(server_class, sock_path, make_server)
    assert server.server_address == sock_path
    assert_serves(server, serve, datagram_clients)


@pytest.mark.parametrize("server_class", SERVER_CLASSES)
def test_the_file_of_a_killed_server_process_is_replaced(
    server_class: ServerClass,
    sock_path: str,
    hold_socket: HoldSocket,
    make_server: MakeServer,
    serve: Serve,
    datagram_clients: DatagramClients,
) -> None:
    hold_socket(sock_path, "listening").kill()  # SIGKILL: no chance to unlink
    assert os.path.exists(sock_path)
    server = echo_server(server_class, sock_path, make_server)
    assert_serves(server, serve, datagram_clients)


@pytest.mark.parametrize("server_class", SERVER_CLASSES)
@pytest.mark.parametrize("kind", ["listening", "bound", "datagram"])
def test_a_live_socket_in_another_process_is_never_stolen(
    server_class: ServerClass, kind: str, sock_path: str, hold_socket: HoldSocket
) -> None:
    hold_socket(sock_path, kind)
    theirs = inode(sock_path)
    with pytest.raises(OSError, match="live socket is bound") as raised:
        server_class(sock_path, BaseRequestHandler)
    assert raised.value.errno == errno.EADDRINUSE
    assert raised.value.filename == sock_path
    assert sock_path in str(raised.value)
    assert inode(sock_path) == theirs


def test_the_live_server_keeps_serving_after_the_refusal(
    sock_path: str, hold_socket: HoldSocket
) -> None:
    hold_socket(sock_path, "listening")
    with pytest.raises(OSError, match="Address already in use"):
        UnixStreamServer(sock_path, BaseRequestHandler)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(WAIT)
        client.connect(sock_path)  # refused if its file had been replaced


def test_a_live_socket_in_this_process_is_never_stolen(sock_path: str) -> None:
    with UnixDatagramServer(sock_path, BaseRequestHandler) as first:
        with pytest.raises(OSError, match="live socket is bound") as raised:
            UnixDatagramServer(sock_path, BaseRequestHandler)
        assert raised.value.errno == errno.EADDRINUSE
        assert first.server_address == sock_path
        assert os.path.exists(sock_path)


def make_not_a_socket(case: str, path: str, directory: str) -> str:
    """Put something that is not a socket at ``path``; return what it points at, if anything."""
    target = os.path.join(directory, "target")
    if case == "regular file":
        with open(path, "w") as file:
            file.write("keep me")
    elif case == "directory":
        os.mkdir(path)
    elif case == "symlink to a stale socket":
        leave_stale_socket_file(target)
        os.symlink(target, path)
    elif case == "symlink to a regular file":
        with open(target, "w") as file:
            file.write("keep me")
        os.symlink(target, path)
    else:
        os.symlink(target, path)  # dangling
    return target


@pytest.mark.parametrize("server_class", SERVER_CLASSES)
@pytest.mark.parametrize(
    "case",
    [
        "regular file",
        "directory",
        "symlink to a stale socket",
        "symlink to a regular file",
        "dangling symlink",
    ],
)
def test_a_path_that_is_not_a_socket_is_never_removed(
    server_class: ServerClass,
    case: str,
    sock_dir: str,
    sock_path: str,
    audit_events: AuditEvents,
) -> None:
    target = make_not_a_socket(case, sock_path, sock_dir)
    before = inode(sock_path)
    target_before = inode(target) if os.path.lexists(target) else None
    with pytest.raises(OSError, match="is not a socket") as raised:
        server_class(sock_path, BaseRequestHandler)
    assert raised.value.errno == errno.EADDRINUSE
    assert sock_path in str(raised.value)
    assert inode(sock_path) == before
    assert (inode(target) if os.path.lexists(target) else None) == target_before
    assert removals(audit_events) == []


def removals(events: AuditEvents, since: int = 0) -> AuditEvents:
    return only(events[since:], "os.remove")


def test_only_a_stale_file_is_ever_removed_before_binding(
    sock_dir: str, audit_events: AuditEvents, make_server: MakeServer
) -> None:
    fresh, stale = os.path.join(sock_dir, "fresh.sock"), os.path.join(sock_dir, "stale.sock")
    make_server(UnixStreamServer, fresh, BaseRequestHandler)
    assert removals(audit_events) == []
    leave_stale_socket_file(stale)
    mark = len(audit_events)
    make_server(UnixStreamServer, stale, BaseRequestHandler)
    assert removals(audit_events, mark) == [("os.remove", stale)]


def test_a_file_replaced_while_being_checked_is_left_alone(
    sock_dir: str, sock_path: str, before_next: BeforeNext
) -> None:
    leave_stale_socket_file(sock_path)
    replacement = os.path.join(sock_dir, "replacement.sock")
    leave_stale_socket_file(replacement)
    theirs = inode(replacement)
    # Another process swaps in its own socket file just as the server probes
    # the stale one; rename() keeps the two inodes distinct.
    before_next("socket.connect", lambda: os.rename(replacement, sock_path))
    with pytest.raises(OSError, match="replaced while being checked") as raised:
        UnixStreamServer(sock_path, BaseRequestHandler)
    assert raised.value.errno == errno.EADDRINUSE
    assert inode(sock_path) == theirs
