"""IPv6 by address, dual-stack, and the stdlib's ``address_family`` still winning."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Callable, Iterator

import pytest

from sockserve.core import BaseRequestHandler, DatagramRequestHandler, StreamRequest
from sockserve.inet import InetAddress, TCPServer, UDPServer
from tests.conftest import WAIT

Serve = Callable[..., threading.Thread]


class SaysWhoCalled(BaseRequestHandler[StreamRequest, TCPServer, InetAddress]):
    def handle(self) -> None:
        self.request.sendall(repr(self.client_address).encode())


class EchoesDatagrams(DatagramRequestHandler):
    def handle(self) -> None:
        self.wfile.write(self.rfile.read())


def has_ipv6() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


pytestmark = pytest.mark.skipif(not has_ipv6(), reason="no IPv6 loopback here")


@pytest.fixture
def server_of() -> Iterator[Callable[..., TCPServer]]:
    made: list[TCPServer] = []

    def make(address: tuple[str, int], cls: type[TCPServer] = TCPServer) -> TCPServer:
        server = cls(address, SaysWhoCalled)
        made.append(server)
        return server

    yield make
    for server in made:
        server.server_close()


def ask(host: str, port: int, family: int = socket.AF_INET6) -> str:
    with socket.socket(family) as client:
        client.settimeout(WAIT)
        client.connect((host, port))
        return client.recv(200).decode()


def test_an_ipv6_address_makes_an_ipv6_server(
    server_of: Callable[..., TCPServer], serve: Serve
) -> None:
    server = server_of(("::1", 0))
    serve(server)
    assert server.address_family == socket.AF_INET6
    host, port, flowinfo, scope_id = server.server_address  # type: ignore[misc]  # a 4-tuple here
    assert (host, flowinfo, scope_id) == ("::1", 0, 0)
    reply = ask("::1", port)
    assert reply.startswith("('::1', ")
    assert reply.endswith(", 0, 0)")


def test_an_ipv4_address_and_the_empty_host_stay_ipv4(server_of: Callable[..., TCPServer]) -> None:
    assert server_of(("127.0.0.1", 0)).address_family == socket.AF_INET
    assert server_of(("", 0)).server_address[0] == "0.0.0.0"


def test_a_host_name_takes_the_family_it_resolves_to(server_of: Callable[..., TCPServer]) -> None:
    first = socket.getaddrinfo("localhost", 0, 0, socket.SOCK_STREAM, 0, socket.AI_PASSIVE)[0]
    server = server_of(("localhost", 0))
    assert server.address_family == first[0]


def test_an_unresolvable_host_is_the_resolver_error() -> None:
    with pytest.raises(socket.gaierror):
        TCPServer(("no-such-host.invalid", 0), SaysWhoCalled)


def test_udp_takes_the_family_from_the_address_too() -> None:
    with UDPServer(("::1", 0), EchoesDatagrams) as server:
        assert server.address_family == socket.AF_INET6
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as client:
            client.settimeout(WAIT)
            client.sendto(b"over six", server.server_address)
            server.handle_request()
            assert client.recv(64) == b"over six"


class DualStack(TCPServer):
    dual_stack = True


class SixOnly(TCPServer):
    dual_stack = False


def test_dual_stack_serves_ipv4_and_ipv6_clients_on_one_socket(
    server_of: Callable[..., TCPServer], serve: Serve
) -> None:
    server = server_of(("", 0), DualStack)
    serve(server)
    port = server.server_address[1]
    assert server.server_address[0] == "::"
    assert ask("::1", port).startswith("('::1', ")
    assert ask("127.0.0.1", port, socket.AF_INET).startswith("('::ffff:127.0.0.1', ")


def test_dual_stack_false_serves_ipv6_clients_only(server_of: Callable[..., TCPServer]) -> None:
    server = server_of(("::", 0), SixOnly)
    with pytest.raises(ConnectionRefusedError):
        ask("127.0.0.1", server.server_address[1], socket.AF_INET)


def test_dual_stack_on_one_address_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"'127\.0\.0\.1'"):
        DualStack(("127.0.0.1", 0), SaysWhoCalled)


def test_an_address_family_a_subclass_sets_wins() -> None:
    class FourOnly(TCPServer):
        address_family = socket.AF_INET

    class StdlibFourOnly(socketserver.TCPServer):
        address_family = socket.AF_INET

    for cls in (FourOnly, StdlibFourOnly):  # the stdlib's error, on both
        with pytest.raises(socket.gaierror):
            cls(("::1", 0), SaysWhoCalled)  # type: ignore[arg-type]


def test_the_stdlib_ipv6_subclass_idiom_behaves_as_on_the_stdlib() -> None:
    class Ours(TCPServer):
        address_family = socket.AF_INET6

    class Theirs(socketserver.TCPServer):
        address_family = socket.AF_INET6

    with (
        Ours(("::1", 0), SaysWhoCalled) as ours,
        Theirs(("::1", 0), SaysWhoCalled) as theirs,  # type: ignore[arg-type]
    ):
        assert len(ours.server_address) == len(theirs.server_address) == 4
        assert ours.socket.family == theirs.socket.family == socket.AF_INET6
