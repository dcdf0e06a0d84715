"""An address too long for sun_path, or cut short by a NUL, fails before any socket work."""

from __future__ import annotations

import os

import pytest

from sockserve.core import BaseRequestHandler
from sockserve.unix import UnixDatagramServer, UnixPathTooLongError, UnixStreamServer

from .conftest import AuditEvents, MakeServer, linux_only, only, sockets_made

# Measured on Linux: sun_path holds 108 bytes; CPython keeps one for the NUL
# that ends a path, but an abstract name (leading NUL) may use all 108.
LINUX_PATH_LIMIT = 107
LINUX_ABSTRACT_LIMIT = 108


def path_of_length(directory: str, length: int, filler: str = "x") -> str:
    """A path in ``directory`` that is ``length`` bytes long once encoded."""
    name_bytes = length - len(os.fsencode(directory)) - 1
    name = filler * (name_bytes // len(filler.encode()))
    return os.path.join(directory, name + "y" * (name_bytes - len(name.encode())))


@linux_only
@pytest.mark.parametrize("as_bytes", [False, True], ids=["str", "bytes"])
def test_the_longest_path_binds(as_bytes: bool, sock_dir: str, make_server: MakeServer) -> None:
    path = path_of_length(sock_dir, LINUX_PATH_LIMIT)
    server = make_server(
        UnixStreamServer, os.fsencode(path) if as_bytes else path, BaseRequestHandler
    )
    assert server.server_address == path
    assert os.path.exists(path)


@linux_only
@pytest.mark.parametrize("as_bytes", [False, True], ids=["str", "bytes"])
def test_the_longest_abstract_name_binds(as_bytes: bool, make_server: MakeServer) -> None:
    name = b"\0" + os.urandom(8).hex().encode().ljust(LINUX_ABSTRACT_LIMIT - 1, b"z")
    address = name if as_bytes else name.decode()
    server = make_server(UnixDatagramServer, address, BaseRequestHandler)
    assert server.server_address == name


def too_long(case: str, directory: str) -> tuple[str | bytes, int]:
    """An address one byte over the limit, and that limit."""
    if case == "str path":
        return path_of_length(directory, LINUX_PATH_LIMIT + 1), LINUX_PATH_LIMIT
    if case == "bytes path":
        return os.fsencode(path_of_length(directory, LINUX_PATH_LIMIT + 1)), LINUX_PATH_LIMIT
    if case == "non-ASCII path":  # 2 bytes a character: fewer characters than bytes
        return path_of_length(directory, LINUX_PATH_LIMIT + 1, "é"), LINUX_PATH_LIMIT
    name = "\0" + "z" * LINUX_ABSTRACT_LIMIT
    return (name if case == "abstract str" else name.encode()), LINUX_ABSTRACT_LIMIT


@linux_only
@pytest.mark.parametrize("server_class", [UnixStreamServer, UnixDatagramServer])
@pytest.mark.parametrize(
    "case", ["str path", "bytes path", "non-ASCII path", "abstract str", "abstract bytes"]
)
def test_one_byte_too_long_is_a_clear_value_error(
    server_class: type[UnixStreamServer] | type[UnixDatagramServer],
    case: str,
    sock_dir: str,
    audit_events: AuditEvents,
) -> None:
    address, limit = too_long(case, sock_dir)
    with pytest.raises(UnixPathTooLongError) as raised:
        server_class(address, BaseRequestHandler)
    message = str(raised.value)
    assert repr(address) in message
    assert f"is {limit + 1} bytes long; this platform allows at most {limit}" in message
    assert isinstance(raised.value, ValueError)
    assert isinstance(raised.value, OSError)  # what the stdlib raises: except OSError still works
    assert only(audit_events, "os.chmod", "socket.bind", "os.remove") == []
    assert os.listdir(sock_dir) == []
    (server_socket,) = sockets_made(audit_events)
    assert server_socket.fileno() == -1  # closed by the constructor


@pytest.mark.parametrize("address", ["{dir}/a\0b", b"{dir}/a\0b"], ids=["str", "bytes"])
def test_a_nul_inside_a_path_is_a_value_error(address: str | bytes, sock_dir: str) -> None:
    if isinstance(address, bytes):
        address = address.replace(b"{dir}", os.fsencode(sock_dir))
    else:
        address = address.replace("{dir}", sock_dir)
    with pytest.raises(ValueError, match="contains a NUL byte"):
        UnixStreamServer(address, BaseRequestHandler)
    assert os.listdir(sock_dir) == []
