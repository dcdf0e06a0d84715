"""The PROXY protocol parser and reader, and the network lists, on real socket pairs."""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import struct
import threading
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sockserve.core import AdmissionError, NetworkAccess, Networks, ProxyProtocol
from sockserve.core import parse_proxy_header as parse
from sockserve.core import proxy_header_length as length_of

SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"


def v2(command: int, family: int, body: bytes) -> bytes:
    return SIGNATURE + struct.pack("!BBH", 0x20 | command, family, len(body)) + body


def v2_ipv4(source: str, port: int) -> bytes:
    addresses = socket.inet_aton(source) + socket.inet_aton("10.0.0.1")
    return v2(1, 0x11, addresses + struct.pack("!HH", port, 443))


def test_v1_headers_give_the_client_address() -> None:
    assert parse(b"PROXY TCP4 192.0.2.7 10.0.0.1 56324 443\r\n") == ("192.0.2.7", 56324)
    assert parse(b"PROXY TCP6 2001:db8::7 2001:db8::1 5 443\r\n") == ("2001:db8::7", 5, 0, 0)
    assert parse(b"PROXY UNKNOWN\r\n") is None
    assert parse(b"PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n") is None


@pytest.mark.parametrize(
    "header",
    [
        b"PROXY TCP4 192.0.2.7 10.0.0.1 56324\r\n",  # a field short
        b"PROXY TCP4 2001:db8::7 10.0.0.1 1 2\r\n",  # not of its family
        b"PROXY TCP4 192.0.2.300 10.0.0.1 1 2\r\n",  # not an address
        b"PROXY TCP4 192.0.2.7 10.0.0.1 65536 2\r\n",  # not a port
        b"PROXY UDP4 192.0.2.7 10.0.0.1 1 2\r\n",  # not a transport v1 has
    ],
)
def test_malformed_v1_headers_are_refused(header: bytes) -> None:
    with pytest.raises(AdmissionError, match="malformed"):
        parse(header)


def test_v2_headers_give_the_client_address() -> None:
    assert parse(v2_ipv4("192.0.2.7", 4242)) == ("192.0.2.7", 4242)
    six = ipaddress.IPv6Address("2001:db8::7").packed + bytes(16) + struct.pack("!HH", 9, 443)
    assert parse(v2(1, 0x21, six)) == ("2001:db8::7", 9, 0, 0)
    unix = b"/run/client.sock".ljust(108, b"\0") + bytes(108)
    assert parse(v2(1, 0x31, unix)) == "/run/client.sock"
    assert parse(v2(0, 0x00, b"")) is None  # LOCAL: a health check keeps the proxy's address
    with_extension = v2_ipv4("192.0.2.8", 1)[:14] + struct.pack("!H", 12 + 7)
    with_extension += v2_ipv4("192.0.2.8", 1)[16:] + b"\x04\x00\x04abcd"  # a TLV: skipped
    assert parse(with_extension) == ("192.0.2.8", 1)


def test_malformed_v2_headers_are_refused() -> None:
    with pytest.raises(AdmissionError, match="version or command"):
        parse(SIGNATURE + b"\x32\x11\x00\x00")
    with pytest.raises(AdmissionError, match="too short"):
        parse(v2(1, 0x11, b"\x01\x02"))
    with pytest.raises(AdmissionError, match="address family"):
        parse(v2(1, 0x41, bytes(12)))


def test_the_header_length_is_known_as_soon_as_it_can_be() -> None:
    assert length_of(b"PROXY TCP4 1.2", 4096) is None
    assert length_of(b"PROXY UNKNOWN\r\nGET / HTTP/1.1", 4096) == 15
    assert length_of(SIGNATURE[:5], 4096) is None
    assert length_of(v2_ipv4("192.0.2.7", 1) + b"payload", 4096) == 28
    with pytest.raises(AdmissionError, match="no PROXY header"):
        length_of(b"GET / HTTP/1.1\r\n", 4096)
    with pytest.raises(AdmissionError, match="longer than 107"):
        length_of(b"PROXY " + b"x" * 200, 4096)
    with pytest.raises(AdmissionError, match="over the limit"):
        length_of(SIGNATURE + b"\x21\x11\xff\xff", 4096)


@given(st.binary(max_size=300))
def test_no_input_crashes_the_parser(data: bytes) -> None:
    try:
        length = length_of(data, 4096)
    except AdmissionError:
        return
    if length is not None and length <= len(data):
        with contextlib.suppress(AdmissionError):
            parse(data[:length])


def pair() -> tuple[socket.socket, socket.socket]:
    server_side, client_side = socket.socketpair(socket.AF_UNIX)
    return server_side, client_side


def test_the_reader_takes_exactly_the_header_even_when_it_drips() -> None:
    proxy = ProxyProtocol(["127.0.0.1"], timeout=5)
    server_side, client_side = pair()
    header = b"PROXY TCP4 192.0.2.7 10.0.0.1 56324 443\r\n"

    def drip() -> None:
        for index in range(0, len(header), 7):
            client_side.sendall(header[index : index + 7])
            time.sleep(0.01)
        client_side.sendall(b"the rest is the handler's")

    sender = threading.Thread(target=drip)
    sender.start()
    with server_side, client_side:
        assert proxy.read(server_side, "") == ("192.0.2.7", 56324)
        sender.join()
        assert server_side.recv(100) == b"the rest is the handler's"


def test_a_slow_header_is_refused_at_the_timeout() -> None:
    proxy = ProxyProtocol(["127.0.0.1"], timeout=0.2)
    server_side, client_side = pair()
    with server_side, client_side:
        client_side.sendall(b"PROXY TCP4 192.0.2.7")  # and no more
        started = time.monotonic()
        with pytest.raises(AdmissionError, match=r"within 0\.2 s"):
            proxy.read(server_side, "")
        assert time.monotonic() - started < 2


def test_a_connection_closed_mid_header_is_refused() -> None:
    proxy = ProxyProtocol(["127.0.0.1"])
    server_side, client_side = pair()
    with server_side:
        client_side.sendall(b"PROXY TCP4")
        client_side.close()
        with pytest.raises(AdmissionError, match="closed before"):
            proxy.read(server_side, "")


def test_an_untrusted_peer_is_refused_before_anything_is_read() -> None:
    proxy = ProxyProtocol(["10.0.0.0/8"])
    with (
        socket.create_server(("127.0.0.1", 0)) as listener,
        socket.create_connection(listener.getsockname()) as client,
    ):
        connection, peer = listener.accept()
        with connection:
            client.sendall(b"PROXY UNKNOWN\r\n")
            with pytest.raises(AdmissionError, match="trusted proxy"):
                proxy.read(connection, peer)


def test_bad_settings_are_clear_errors() -> None:
    with pytest.raises(ValueError, match=r"'10\.0\.0\.300/8'"):
        ProxyProtocol(["10.0.0.300/8"])
    with pytest.raises(TypeError, match="one string"):
        ProxyProtocol("10.0.0.0/8")
    with pytest.raises(ValueError, match="above 0"):
        ProxyProtocol(["10.0.0.0/8"], timeout=0)
    with pytest.raises(ValueError, match="at least 107"):
        ProxyProtocol(["10.0.0.0/8"], max_size=50)


def test_networks_match_both_families_and_ipv4_mapped_addresses() -> None:
    networks = Networks(["127.0.0.0/8", "2001:db8::/32"])
    assert ("127.0.0.1", 80) in networks
    assert ("::ffff:127.0.0.1", 80, 0, 0) in networks  # an IPv4 client of a dual-stack socket
    assert ("2001:db8::1", 80, 0, 0) in networks
    assert ("192.0.2.1", 80) not in networks
    assert "/run/app.sock" not in networks  # a Unix peer is not an IP one


def test_network_access_lets_in_the_allowed_and_keeps_out_the_denied() -> None:
    access = NetworkAccess(allow=["127.0.0.0/8"], deny=["127.0.0.2"])
    assert access(None, ("127.0.0.1", 1)) is None
    assert access(None, ("127.0.0.2", 1)) == "its network is denied"
    assert access(None, ("192.0.2.1", 1)) == "its network is not allowed"
    assert NetworkAccess(deny=["192.0.2.0/24"])(None, ("198.51.100.1", 1)) is None


def test_a_v2_header_for_a_unix_client_keeps_the_proxys_address_on_an_ip_server() -> None:
    proxy = ProxyProtocol(["127.0.0.1"])
    unix_client = v2(1, 0x31, b"/run/c.sock".ljust(108, b"\0") + bytes(108))
    with (
        socket.create_server(("127.0.0.1", 0)) as listener,
        socket.create_connection(listener.getsockname()) as client,
    ):
        connection, peer = listener.accept()
        with connection:
            client.sendall(unix_client)
            assert proxy.read(connection, peer) == peer


def test_a_v2_header_for_a_datagram_is_refused_on_a_stream() -> None:
    udp = v2(1, 0x12, socket.inet_aton("192.0.2.7") + bytes(4) + struct.pack("!HH", 1, 2))
    with pytest.raises(AdmissionError, match="datagram"):
        parse(udp)


@pytest.mark.parametrize(
    "header",
    [
        b"PROXY TCP6 fe80::1%eth0 2001:db8::1 5 443\r\n",  # a scope is no client address
        b"PROXY TCP4 192.0.2.7 not-an-address 5 443\r\n",
    ],
)
def test_v1_addresses_are_checked_both_ways(header: bytes) -> None:
    with pytest.raises(AdmissionError, match="malformed"):
        parse(header)


def test_networks_written_in_ipv4_mapped_form_match_ipv4_clients() -> None:
    networks = Networks(["::ffff:10.0.0.0/104"])
    assert ("10.0.0.1", 1) in networks
    assert ("::ffff:10.0.0.1", 1, 0, 0) in networks
    assert ("11.0.0.1", 1) not in networks


def test_an_infinite_timeout_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="finite"):
        ProxyProtocol(["127.0.0.1"], timeout=float("inf"))
