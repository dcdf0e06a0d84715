"""The stdlib's Unix servers and sockserve's, against the same clients: same bytes, same errors.

Each test runs once per flavour (``stdlib``, ``sockserve``) with one
expectation for both. The differences sockserve makes on purpose are pinned
at the end, each with what the stdlib does.
"""

from __future__ import annotations

import errno
import os
import socket

import pytest

from sockserve.core import BaseRequestHandler
from sockserve.unix import UnixDatagramServer, UnixStreamServer

from .conftest import (
    SOCKSERVE,
    STDLIB,
    DatagramClients,
    Flavour,
    MakeServer,
    Serve,
    leave_stale_socket_file,
    linux_only,
    stream_exchange,
)

LINES = b"first line\nsecond line\n\nlast, unterminated"


def test_stream_echo(
    flavour: Flavour, sock_path: str, make_server: MakeServer, serve: Serve
) -> None:
    server = make_server(flavour.stream_server, sock_path, flavour.stream_echo)
    serve(server)
    assert stream_exchange(sock_path, LINES) == LINES
    assert stream_exchange(sock_path, b"again\n") == b"again\n"


def test_datagram_echo_to_a_bound_client(
    flavour: Flavour,
    sock_path: str,
    make_server: MakeServer,
    serve: Serve,
    datagram_clients: DatagramClients,
) -> None:
    server = make_server(flavour.datagram_server, sock_path, flavour.datagram_echo)
    serve(server)
    assert datagram_clients.exchange(sock_path, LINES) == LINES
    assert datagram_clients.exchange(sock_path, b"") == b""


@pytest.mark.parametrize("kind", ["stream", "datagram"])
@pytest.mark.parametrize(
    ("address", "expected"),
    [
        pytest.param("{dir}/s.sock", "{dir}/s.sock", id="str-path"),
        pytest.param(b"{dir}/s.sock", "{dir}/s.sock", id="bytes-path-reported-as-str"),
        pytest.param("s.sock", "s.sock", id="relative-path"),
        pytest.param(
            "\0sockserve-{pid}-{kind}",
            b"\0sockserve-{pid}-{kind}",
            id="abstract-str",
            marks=linux_only,
        ),
        pytest.param(
            b"\0sockserve-{pid}-{kind}",
            b"\0sockserve-{pid}-{kind}",
            id="abstract-bytes",
            marks=linux_only,
        ),
    ],
)
def test_server_address_is_the_bound_address(
    flavour: Flavour,
    kind: str,
    address: str | bytes,
    expected: str | bytes,
    sock_dir: str,
    make_server: MakeServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(sock_dir)
    fields = {"dir": sock_dir, "pid": f"{os.getpid()}-{flavour.name}", "kind": kind}
    address = fill(address, fields)
    cls = flavour.stream_server if kind == "stream" else flavour.datagram_server
    server = make_server(cls, address, flavour.stream_echo)
    assert server.server_address == fill(expected, fields)
    assert server.server_address == server.socket.getsockname()


def fill(template: str | bytes, fields: dict[str, str]) -> str | bytes:
    if isinstance(template, bytes):
        return template.decode().format(**fields).encode()
    return template.format(**fields)


@linux_only
@pytest.mark.parametrize("kind", ["stream", "datagram"])
def test_the_empty_address_binds_a_fresh_abstract_name(
    flavour: Flavour, kind: str, sock_dir: str, make_server: MakeServer
) -> None:
    cls = flavour.stream_server if kind == "stream" else flavour.datagram_server
    server = make_server(cls, "", flavour.stream_echo)
    assert isinstance(server.server_address, bytes)
    assert server.server_address.startswith(b"\0")
    assert len(server.server_address) == 6  # Linux autobind: NUL and five hex digits


@pytest.mark.parametrize("kind", ["stream", "datagram"])
@pytest.mark.parametrize(
    ("case", "error", "code"),
    [
        ("missing directory", FileNotFoundError, errno.ENOENT),
        ("existing directory", OSError, errno.EADDRINUSE),
        ("regular file", OSError, errno.EADDRINUSE),
        ("too long", OSError, None),
        ("None", TypeError, None),
        ("int", TypeError, None),
    ],
)
def test_bad_addresses_raise_the_same_exceptions(
    flavour: Flavour,
    kind: str,
    case: str,
    error: type[Exception],
    code: int | None,
    sock_dir: str,
) -> None:
    address = bad_address(case, sock_dir)
    cls = flavour.stream_server if kind == "stream" else flavour.datagram_server
    with pytest.raises(error) as raised:
        cls(address, flavour.stream_echo)
    assert getattr(raised.value, "errno", None) == code


def bad_address(case: str, directory: str) -> object:
    if case == "existing directory":
        return directory
    if case == "regular file":
        path = os.path.join(directory, "file")
        with open(path, "w"):
            pass
        return path
    return {
        "missing directory": os.path.join(directory, "missing", "s.sock"),
        "too long": os.path.join(directory, "x" * 120),
        "None": None,
        "int": 42,
    }[case]


def test_server_close_closes_the_socket(
    flavour: Flavour, sock_path: str, make_server: MakeServer
) -> None:
    server = make_server(flavour.datagram_server, sock_path, flavour.datagram_echo)
    server.server_close()
    assert server.fileno() == -1
    server.server_close()  # twice is fine in both


def test_a_stream_client_that_never_bound_is_the_empty_string(
    flavour: Flavour, sock_path: str, make_server: MakeServer, serve: Serve
) -> None:
    server = make_server(flavour.stream_server, sock_path, flavour.stream_whoami)
    serve(server)
    assert stream_exchange(sock_path, b"") == b"''"


def test_a_bound_datagram_client_is_its_path(
    flavour: Flavour,
    sock_path: str,
    make_server: MakeServer,
    serve: Serve,
    datagram_clients: DatagramClients,
) -> None:
    server = make_server(flavour.datagram_server, sock_path, flavour.datagram_whoami)
    serve(server)
    client = datagram_clients.bound()
    client.sendto(b"", sock_path)
    assert client.recv(65536) == repr(client.getsockname()).encode()


# ------------------------------------------------------------------------ deliberate differences


@pytest.mark.parametrize("kind", ["stream", "datagram"])
def test_stdlib_leaves_the_socket_file_sockserve_removes_it(
    kind: str, sock_path: str, make_server: MakeServer
) -> None:
    for flavour, remains in [(STDLIB, True), (SOCKSERVE, False)]:
        cls = flavour.stream_server if kind == "stream" else flavour.datagram_server
        make_server(cls, sock_path, flavour.stream_echo).server_close()
        assert os.path.exists(sock_path) is remains, flavour.name


def test_stdlib_refuses_a_stale_socket_file_sockserve_replaces_it(
    sock_path: str, make_server: MakeServer
) -> None:
    leave_stale_socket_file(sock_path)
    with pytest.raises(OSError, match="Address already in use") as raised:
        STDLIB.stream_server(sock_path, STDLIB.stream_echo)
    assert raised.value.errno == errno.EADDRINUSE
    server = make_server(SOCKSERVE.stream_server, sock_path, SOCKSERVE.stream_echo)
    assert server.server_address == sock_path


def test_stdlib_binds_a_path_cut_at_a_nul_sockserve_refuses_it(
    sock_dir: str, make_server: MakeServer
) -> None:
    address = os.path.join(sock_dir, "cut\0here")
    server = make_server(STDLIB.stream_server, address, STDLIB.stream_echo)
    assert server.server_address == os.path.join(sock_dir, "cut")
    with pytest.raises(ValueError, match="NUL byte"):
        SOCKSERVE.stream_server(address.replace("cut", "other"), SOCKSERVE.stream_echo)
    assert os.listdir(sock_dir) == ["cut"]


class ReusingStreamServer(UnixStreamServer):
    allow_reuse_port = True


class ReusingDatagramServer(UnixDatagramServer):
    allow_reuse_port = True


@pytest.mark.skipif(not hasattr(socket, "SO_REUSEPORT"), reason="no SO_REUSEPORT")
@pytest.mark.parametrize("server_class", [ReusingStreamServer, ReusingDatagramServer])
def test_allow_reuse_port_is_never_applied_to_a_unix_socket(
    server_class: type[ReusingStreamServer] | type[ReusingDatagramServer], sock_path: str
) -> None:
    # CPython 3.11 sets it, and Linux 6.12.9 and later then fail the bind
    # with EOPNOTSUPP (gh-128916; the stdlib guards it from 3.12.9/3.13.2).
    with server_class(sock_path, BaseRequestHandler) as server:
        assert server.socket.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 0
