"""Linux abstract names (a leading NUL byte): no file to check, replace or remove."""

from __future__ import annotations

import errno
import os
import uuid

import pytest

from sockserve.core import BaseRequestHandler
from sockserve.unix import UnixDatagramServer, UnixStreamServer

from .conftest import (
    AuditEvents,
    DatagramClients,
    DatagramEcho,
    MakeServer,
    Serve,
    StreamEcho,
    linux_only,
    only,
    stream_exchange,
)

pytestmark = linux_only


def unique_name() -> bytes:
    return f"\0sockserve-test-{uuid.uuid4().hex}".encode()


@pytest.fixture(params=[str, bytes], ids=["str", "bytes"])
def abstract_name(request: pytest.FixtureRequest) -> str | bytes:
    name = unique_name()
    return name.decode() if request.param is str else name


@pytest.fixture
def in_sock_dir(sock_dir: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test in the empty `sock_dir`: a file a bind creates would show up there."""
    monkeypatch.chdir(sock_dir)
    return sock_dir


def test_a_stream_server_on_an_abstract_name(
    abstract_name: str | bytes, in_sock_dir: str, make_server: MakeServer, serve: Serve
) -> None:
    server = make_server(UnixStreamServer, abstract_name, StreamEcho)
    expected = abstract_name.encode() if isinstance(abstract_name, str) else abstract_name
    assert server.server_address == expected
    serve(server)
    assert stream_exchange(server.server_address, b"abstract\n") == b"abstract\n"
    assert stream_exchange(abstract_name, b"by the name given\n") == b"by the name given\n"
    assert os.listdir(in_sock_dir) == []


def test_a_datagram_server_on_an_abstract_name(
    abstract_name: str | bytes,
    in_sock_dir: str,
    make_server: MakeServer,
    serve: Serve,
    datagram_clients: DatagramClients,
) -> None:
    server = make_server(UnixDatagramServer, abstract_name, DatagramEcho)
    assert isinstance(server.server_address, bytes)
    serve(server)
    assert datagram_clients.exchange(server.server_address, b"abstract\n") == b"abstract\n"
    assert os.listdir(in_sock_dir) == ["client1.sock"]  # the client's file, nothing else


@pytest.mark.parametrize("server_class", [UnixStreamServer, UnixDatagramServer])
def test_closing_frees_the_name_and_removes_nothing(
    server_class: type[UnixStreamServer] | type[UnixDatagramServer],
    audit_events: AuditEvents,
) -> None:
    name = unique_name()
    server_class(name, BaseRequestHandler).server_close()
    server_class(name, BaseRequestHandler).server_close()  # the kernel freed it on close
    assert only(audit_events, "os.remove") == []


def test_a_name_in_use_fails_as_bind_fails(
    make_server: MakeServer, audit_events: AuditEvents
) -> None:
    name = unique_name()
    make_server(UnixStreamServer, name, BaseRequestHandler)
    with pytest.raises(OSError, match="Address already in use") as raised:
        UnixStreamServer(name, BaseRequestHandler)
    assert raised.value.errno == errno.EADDRINUSE
    assert only(audit_events, "os.remove") == []


class ModedStreamServer(UnixStreamServer):
    socket_mode = 0o600


@pytest.mark.parametrize("name", [unique_name(), ""], ids=["abstract", "autobind"])
def test_a_socket_mode_cannot_apply_to_an_abstract_name(name: bytes | str) -> None:
    with pytest.raises(ValueError, match="socket_mode 0o600 cannot apply to an abstract"):
        ModedStreamServer(name, BaseRequestHandler)
