# mypy: allow-subclassing-any
"""UDPServer with DatagramRequestHandler: the same datagrams back, the same requests."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.inet.conftest import Client, Flavour, MakeServer, Recorder

#: Longer than max_packet_size, and no two 256-byte blocks alike at the cut.
OVERSIZED = bytes(range(256)) * 39 + b"tail" * 4


def datagram_handler(flavour: Flavour, prefix: bytes | None = b"echo:") -> type[Any]:
    """Reply ``prefix + datagram``, or nothing at all if ``prefix`` is None.

    Also appends ``(request, packet, socket)`` to ``server.seen``.
    """
    base: Any = flavour.DatagramRequestHandler

    class Handler(base):
        def handle(self) -> None:
            self.server.seen.append((self.request, self.packet, self.socket))
            if prefix is not None:
                self.wfile.write(prefix + self.rfile.read())

    return Handler


def udp_server(
    flavour: Flavour,
    make_server: MakeServer,
    recording: Recorder,
    handler: type[Any],
) -> Any:
    server = make_server(recording(flavour.UDPServer), handler)
    server.seen = []
    return server


def round_trip(server: Any, client: Client, payload: bytes) -> bytes:
    """Send ``payload`` from a client thread, handle it here, return the reply."""
    reply = client.start(client.datagram, server.server_address, payload)
    server.handle_request()
    return reply.result()


def test_datagram_echo(
    flavour: Flavour,
    make_server: MakeServer,
    recording: Recorder,
    client: Client,
) -> None:
    server = udp_server(flavour, make_server, recording, datagram_handler(flavour))
    assert round_trip(server, client, b"hello") == b"echo:hello"
    assert round_trip(server, client, b"\x00\xff") == b"echo:\x00\xff"


def test_request_is_the_data_and_the_server_socket(
    flavour: Flavour,
    make_server: MakeServer,
    recording: Recorder,
    client: Client,
) -> None:
    server = udp_server(flavour, make_server, recording, datagram_handler(flavour))
    round_trip(server, client, b"payload")
    [(request, packet, sock)] = server.seen
    assert isinstance(request, tuple)
    assert request[0] == packet == b"payload"
    assert request[1] is sock is server.socket


def test_oversized_datagram_is_truncated_to_max_packet_size(
    flavour: Flavour,
    make_server: MakeServer,
    recording: Recorder,
    client: Client,
) -> None:
    server = udp_server(flavour, make_server, recording, datagram_handler(flavour, prefix=b""))
    assert server.max_packet_size == 8192
    assert len(OVERSIZED) == 10000
    assert round_trip(server, client, OVERSIZED) == OVERSIZED[:8192]


def test_empty_datagram_is_sent_when_the_handler_writes_nothing(
    flavour: Flavour,
    make_server: MakeServer,
    recording: Recorder,
    client: Client,
) -> None:
    server = udp_server(flavour, make_server, recording, datagram_handler(flavour, prefix=None))
    assert round_trip(server, client, b"anything") == b""
    assert len(server.seen) == 1


def test_close_request_leaves_the_server_socket_open(
    flavour: Flavour,
    make_server: MakeServer,
    recording: Recorder,
    client: Client,
) -> None:
    server = udp_server(flavour, make_server, recording, datagram_handler(flavour))
    round_trip(server, client, b"first")
    assert server.calls[-2:] == ["shutdown_request", "close_request"]
    server.close_request(server.seen[0][0])
    assert server.socket.fileno() != -1
    assert round_trip(server, client, b"second") == b"echo:second"
