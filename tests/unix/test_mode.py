"""socket_mode: the socket file gets exactly that mode, and is never more open, even briefly."""

from __future__ import annotations

import errno
import os
import socket
import stat

import pytest

from sockserve.core import BaseRequestHandler
from sockserve.unix import UnixDatagramServer, UnixStreamServer
from sockserve.unix._mode import restrict_before_bind, widen_after_bind

from .conftest import (
    AuditEvents,
    MakeServer,
    leave_stale_socket_file,
    linux_only,
    only,
    sockets_made,
    umask,
)

# socket_mode is refused off Linux: only there does bind() honour the socket's mode.
pytestmark = linux_only


def mode_of(path: str) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


class ModedStreamServer(UnixStreamServer):
    socket_mode = 0o660


class ModedDatagramServer(UnixDatagramServer):
    socket_mode = 0o660


@pytest.mark.parametrize("mask", [0o077, 0o022, 0o000], ids=oct)
@pytest.mark.parametrize("mode", [0o600, 0o660, 0o666, 0o777, 0o640, 0o000], ids=oct)
def test_the_file_gets_exactly_the_mode_whatever_the_umask(
    mask: int, mode: int, sock_path: str, make_server: MakeServer
) -> None:
    class Server(UnixStreamServer):
        socket_mode = mode

    with umask(mask):
        make_server(Server, sock_path, BaseRequestHandler)
    assert mode_of(sock_path) == mode


@pytest.mark.parametrize("mask", [0o077, 0o000], ids=oct)
def test_a_datagram_server_applies_it_too(
    mask: int, sock_path: str, make_server: MakeServer
) -> None:
    with umask(mask):
        make_server(ModedDatagramServer, sock_path, BaseRequestHandler)
    assert mode_of(sock_path) == 0o660


def test_it_can_be_set_on_the_instance(sock_path: str, make_server: MakeServer) -> None:
    server = make_server(UnixStreamServer, sock_path, BaseRequestHandler, bind_and_activate=False)
    server.socket_mode = 0o604
    with umask(0o077):
        server.server_bind()
    server.server_activate()
    assert mode_of(sock_path) == 0o604


def test_without_it_the_umask_decides_as_in_the_stdlib(
    sock_path: str, make_server: MakeServer
) -> None:
    with umask(0o027):
        make_server(UnixStreamServer, sock_path, BaseRequestHandler)
    assert mode_of(sock_path) == 0o750  # Linux creates socket files from 0o777


def test_it_applies_when_a_stale_file_is_replaced(sock_path: str, make_server: MakeServer) -> None:
    with umask(0o000):
        leave_stale_socket_file(sock_path)  # 0o777, wide open
    with umask(0o022):
        make_server(ModedStreamServer, sock_path, BaseRequestHandler)
    assert mode_of(sock_path) == 0o660


def test_the_file_is_never_more_open_than_asked(sock_path: str, audit_events: AuditEvents) -> None:
    with umask(0o022):  # which takes 0o020 away from 0o660
        server = ModedStreamServer(sock_path, BaseRequestHandler)
    descriptor = server.fileno()
    server.server_close()
    assert only(audit_events, "os.chmod", "socket.bind", "mode before chmod") == [
        ("os.chmod", descriptor),  # the socket itself, before its file exists
        ("socket.bind", sock_path),
        ("os.chmod", sock_path),
        ("mode before chmod", 0o640),  # as bind created it: narrower than asked
    ]


@pytest.mark.parametrize("bad", ["0o600", 1.5, -1, 0o1000, True, 0o4600])
def test_a_bad_mode_is_a_value_error_before_any_socket_work(
    bad: object, sock_path: str, audit_events: AuditEvents
) -> None:
    class Server(UnixStreamServer):
        socket_mode = bad  # type: ignore[assignment]

    with pytest.raises(ValueError, match=r"socket_mode must be None or an int from 0 to 0o777"):
        Server(sock_path, BaseRequestHandler)
    assert only(audit_events, "os.chmod", "socket.bind", "os.remove") == []
    assert not os.path.lexists(sock_path)
    (server_socket,) = sockets_made(audit_events)
    assert server_socket.fileno() == -1  # closed by the constructor


def test_widening_never_follows_a_symbolic_link(sock_dir: str) -> None:
    target, link = os.path.join(sock_dir, "target"), os.path.join(sock_dir, "link")
    with open(target, "w"):
        pass
    os.chmod(target, 0o600)
    os.symlink(target, link)
    with pytest.raises(OSError, match="without following a symbolic link") as raised:
        widen_after_bind(link, 0o666)
    assert raised.value.errno == errno.EOPNOTSUPP
    assert mode_of(target) == 0o600


def test_a_platform_without_fchmod_on_sockets_gets_a_clear_error(sock_path: str) -> None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.close()  # fchmod(-1) fails as an unsupported fchmod would: an OSError
    with pytest.raises(OSError, match=r"socket_mode 0o600: fchmod\(\) on a socket failed") as e:
        restrict_before_bind(sock, 0o600, sock_path)
    assert e.value.errno == errno.EBADF
    assert e.value.filename == sock_path
