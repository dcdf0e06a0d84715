"""sockserve's deliberate improvements over the stdlib (not differential)."""

from __future__ import annotations

import contextlib
import socket
import socketserver
from typing import TYPE_CHECKING

import pytest

from sockserve.core import StreamRequestHandler
from sockserve.inet import InetAddress, TCPServer, UDPServer

if TYPE_CHECKING:
    from tests.inet.conftest import Client, MakeServer, Serve

BURST = 64
BURST_TIMEOUT = 2.0
IPV6_LOOPBACK = ("::1", 0)


class NodelayProbe(StreamRequestHandler[TCPServer, InetAddress]):
    """Sends back the accepted connection's TCP_NODELAY value as one byte."""

    def handle(self) -> None:
        value = self.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        self.wfile.write(bytes([value]))


class LineEcho(StreamRequestHandler):
    def handle(self) -> None:
        self.wfile.write(self.rfile.readline())


class NagleServer(TCPServer):
    tcp_nodelay = False


class TCP6Server(TCPServer):
    address_family = socket.AF_INET6


class ReusePortTCP6Server(TCP6Server):
    allow_reuse_port = True


class ReusePortUDP6Server(UDPServer):
    address_family = socket.AF_INET6
    allow_reuse_port = True


@pytest.fixture
def ipv6() -> None:
    """Skip unless this host can bind the IPv6 loopback address."""
    if not socket.has_ipv6:
        pytest.skip("Python was built without IPv6")
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(IPV6_LOOPBACK)
    except OSError as exc:
        pytest.skip(f"cannot bind ::1: {exc}")


def test_backlog_is_somaxconn_and_absorbs_a_burst(make_server: MakeServer) -> None:
    """The stdlib's backlog of 5 would leave most of these connects hanging."""
    assert TCPServer.request_queue_size == socket.SOMAXCONN
    server = make_server(TCPServer, LineEcho)
    with contextlib.ExitStack() as stack:
        for _ in range(BURST):
            connection = socket.create_connection(server.server_address, timeout=BURST_TIMEOUT)
            stack.enter_context(connection)


@pytest.mark.parametrize(("server_class", "expected"), [(TCPServer, 1), (NagleServer, 0)])
def test_accepted_connections_get_tcp_nodelay(
    make_server: MakeServer, client: Client, server_class: type[TCPServer], expected: int
) -> None:
    server = make_server(server_class, NodelayProbe)
    reply = client.start(client.exchange, server.server_address, b"")
    server.handle_request()
    assert reply.result() == bytes([expected])


class PlainListenerServer(TCPServer):
    """A listener without TCP_NODELAY, as on a platform where connections do not inherit it."""

    def server_activate(self) -> None:
        self.socket.listen(self.request_queue_size)


@pytest.mark.parametrize("server_class", [TCPServer, PlainListenerServer])
def test_every_connection_gets_tcp_nodelay_inherited_or_not(
    make_server: MakeServer, client: Client, server_class: type[TCPServer]
) -> None:
    """The first connection decides whether later ones need the option set: all get it."""
    server = make_server(server_class, NodelayProbe)
    listener_has_it = server.socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    assert listener_has_it == (server_class is TCPServer)
    for _ in range(3):
        reply = client.start(client.exchange, server.server_address, b"")
        server.handle_request()
        assert reply.result() == b"\x01"


@pytest.mark.usefixtures("ipv6")
def test_ipv6_subclass_echoes(make_server: MakeServer, client: Client, serve: Serve) -> None:
    server = make_server(TCP6Server, LineEcho, IPV6_LOOPBACK)
    assert server.socket.family == socket.AF_INET6
    assert server.server_address[0] == "::1"
    serve(server)
    assert client.exchange(server.server_address, b"over ipv6\n") == b"over ipv6\n"


@pytest.mark.usefixtures("ipv6")
@pytest.mark.parametrize("server_class", [ReusePortTCP6Server, ReusePortUDP6Server])
def test_allow_reuse_port_applies_to_ipv6(
    make_server: MakeServer, server_class: type[TCPServer | UDPServer]
) -> None:
    server = make_server(server_class, LineEcho, IPV6_LOOPBACK)
    assert server.socket.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1


def test_udp_server_is_not_a_tcp_server() -> None:
    """A deliberate divergence from the stdlib.

    The stdlib's UDPServer subclasses TCPServer to reuse its socket code;
    sockserve's derives from the family-agnostic ``DatagramServer`` (as
    TCPServer derives from ``StreamServer``). So ``isinstance(server,
    TCPServer)`` is False for a sockserve UDP server where the stdlib says
    True: code that tells servers apart that way must test UDPServer first.
    """
    assert issubclass(socketserver.UDPServer, socketserver.TCPServer)
    assert not issubclass(UDPServer, TCPServer)
