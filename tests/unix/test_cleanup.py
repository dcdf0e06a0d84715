"""server_close() removes the socket file this server created, and only that file."""

from __future__ import annotations

import os
import socket

import pytest

from sockserve.core import BaseRequestHandler
from sockserve.unix import UnixDatagramServer, UnixStreamServer

from .conftest import MakeServer, Serve, inode, leave_stale_socket_file, stream_exchange

SERVER_CLASSES = [UnixStreamServer, UnixDatagramServer]
ServerClass = type[UnixStreamServer] | type[UnixDatagramServer]


@pytest.mark.parametrize("server_class", SERVER_CLASSES)
def test_server_close_removes_the_socket_file(
    server_class: ServerClass, sock_path: str, make_server: MakeServer
) -> None:
    server = make_server(server_class, sock_path, BaseRequestHandler)
    assert os.path.exists(sock_path)
    server.server_close()
    assert not os.path.lexists(sock_path)


def test_leaving_the_with_block_removes_it(sock_path: str) -> None:
    with UnixStreamServer(sock_path, BaseRequestHandler):
        assert os.path.exists(sock_path)
    assert not os.path.lexists(sock_path)


def test_a_serving_server_removes_it_after_shutdown(
    sock_path: str, make_server: MakeServer, serve: Serve
) -> None:
    server = make_server(UnixStreamServer, sock_path, BaseRequestHandler)
    serve(server)
    assert stream_exchange(sock_path, b"") == b""
    server.shutdown()
    server.server_close()
    assert not os.path.lexists(sock_path)


def test_closing_twice_never_removes_a_successors_file(
    sock_path: str, make_server: MakeServer
) -> None:
    first = make_server(UnixStreamServer, sock_path, BaseRequestHandler)
    first.server_close()
    second = make_server(UnixStreamServer, sock_path, BaseRequestHandler)
    first.server_close()
    assert os.path.exists(sock_path)
    assert second.fileno() != -1


def test_a_file_replaced_by_another_socket_is_left_alone(
    sock_path: str, make_server: MakeServer
) -> None:
    server = make_server(UnixStreamServer, sock_path, BaseRequestHandler)
    os.unlink(sock_path)  # as another program cleaning up would
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as other:
        other.bind(sock_path)
        theirs = inode(sock_path)
        server.server_close()
        assert inode(sock_path) == theirs


def test_a_file_replaced_by_a_regular_file_is_left_alone(
    sock_path: str, make_server: MakeServer
) -> None:
    server = make_server(UnixDatagramServer, sock_path, BaseRequestHandler)
    os.unlink(sock_path)
    with open(sock_path, "w") as file:
        file.write("not ours")
    server.server_close()
    with open(sock_path) as file:
        assert file.read() == "not ours"


@pytest.mark.parametrize("server_class", SERVER_CLASSES)
def test_a_server_that_never_bound_touches_no_file(
    server_class: ServerClass, sock_path: str, make_server: MakeServer
) -> None:
    leave_stale_socket_file(sock_path)
    before = inode(sock_path)
    server = make_server(server_class, sock_path, BaseRequestHandler, bind_and_activate=False)
    server.server_close()
    assert inode(sock_path) == before


def test_a_relative_path_is_removed_where_it_was_bound(
    sock_dir: str, make_server: MakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = os.path.join(sock_dir, "elsewhere")
    os.mkdir(elsewhere)
    monkeypatch.chdir(sock_dir)
    server = make_server(UnixStreamServer, "s.sock", BaseRequestHandler)
    monkeypatch.chdir(elsewhere)
    leave_stale_socket_file("s.sock")  # same relative name, other directory
    server.server_close()
    assert not os.path.lexists(os.path.join(sock_dir, "s.sock"))
    assert os.path.exists(os.path.join(elsewhere, "s.sock"))


class FailsToActivate(UnixStreamServer):
    def server_activate(self) -> None:
        raise RuntimeError("activation failed")


def test_a_constructor_that_fails_after_binding_removes_the_file(sock_path: str) -> None:
    with pytest.raises(RuntimeError, match="activation failed"):
        FailsToActivate(sock_path, BaseRequestHandler)
    assert not os.path.lexists(sock_path)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_a_forked_child_closing_its_copy_leaves_the_parents_file(
    sock_path: str, make_server: MakeServer, serve: Serve
) -> None:
    server = make_server(UnixStreamServer, sock_path, BaseRequestHandler)
    pid = os.fork()
    if pid == 0:  # the child: close its copy and leave at once, whatever happens
        try:
            server.server_close()
        finally:
            os._exit(0)
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
    assert os.path.exists(sock_path)
    serve(server)
    assert stream_exchange(sock_path, b"") == b""  # and it still serves there
