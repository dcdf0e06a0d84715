"""Property-based tests of every parser and normaliser sockserve owns.

Random and truncated input never crashes one (only its documented errors),
never hangs (each parse is bounded by its input), and never yields a wrong
address: where a right answer exists, ``ipaddress``, ``urllib`` and the
header's own construction say what it is.

(The PROXY header reader's byte-level fuzzing and the trio stream's line
reader have their own properties in ``tests/core`` and ``tests/trio_backend``.)
"""

from __future__ import annotations

import ipaddress
import socket
import struct
import urllib.parse

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sockserve.core import Networks
from sockserve.core._adopt import listen_plan
from sockserve.core._proxy_protocol import V2_SIGNATURE, header_length, parse_header
from sockserve.inet import host_and_port
from sockserve.inet._family import family_of_host
from sockserve.unix import UnixPathTooLongError
from sockserve.unix._address import socket_file_path

IPV4 = st.integers(0, 2**32 - 1).map(ipaddress.IPv4Address)
IPV6 = st.integers(0, 2**128 - 1).map(ipaddress.IPv6Address)
PORT = st.integers(0, 65535)
#: What a LISTEN_* variable may hold: digits most often, anything at times.
LISTEN_TEXT = st.one_of(st.integers(0, 10**12).map(str), st.text(max_size=12))


@given(pid=st.none() | LISTEN_TEXT, count=st.none() | LISTEN_TEXT, names=st.none() | st.text())
def test_listen_variables_give_names_or_a_value_error(
    pid: str | None, count: str | None, names: str | None
) -> None:
    environ = {
        key: value
        for key, value in (("LISTEN_PID", pid), ("LISTEN_FDS", count), ("LISTEN_FDNAMES", names))
        if value is not None
    }
    try:
        plan = listen_plan(environ, 4242)
    except ValueError:
        return
    if plan is None:
        return
    assert pid == "4242"  # only ever for this process
    assert count is not None
    assert len(plan) == int(count)  # bounded by the process's limit
    given_names = names.split(":") if names else []
    for index, name in enumerate(plan):
        wanted = given_names[index] if index < len(given_names) else ""
        assert name == (wanted or "unknown")


def test_a_count_no_process_could_have_is_refused_not_looped_over() -> None:
    with pytest.raises(ValueError, match="more descriptors than"):
        listen_plan({"LISTEN_PID": "1", "LISTEN_FDS": "999999999"}, 1)
    with pytest.raises(ValueError, match="malformed"):
        listen_plan({"LISTEN_PID": "1", "LISTEN_FDS": "²"}, 1)  # a digit to str.isdigit()


def v1_header(source: ipaddress.IPv4Address | ipaddress.IPv6Address, port: int) -> bytes:
    kind, destination = ("TCP4", "10.0.0.1") if source.version == 4 else ("TCP6", "::1")
    return f"PROXY {kind} {source} {destination} {port} 443\r\n".encode()


def v2_header(source: ipaddress.IPv4Address | ipaddress.IPv6Address, port: int) -> bytes:
    if source.version == 4:
        body = source.packed + bytes(4) + struct.pack("!HH", port, 443)
        family = 0x11
    else:
        body = source.packed + bytes(16) + struct.pack("!HH", port, 443)
        family = 0x21
    return V2_SIGNATURE + bytes([0x21, family]) + struct.pack("!H", len(body)) + body


def socket_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, port: int) -> object:
    return (str(ip), port) if ip.version == 4 else (str(ip), port, 0, 0)


@given(source=IPV4 | IPV6, port=PORT, version=st.sampled_from([v1_header, v2_header]))
def test_a_proxy_header_gives_exactly_the_address_it_carries(
    source: ipaddress.IPv4Address | ipaddress.IPv6Address, port: int, version: object
) -> None:
    header = version(source, port)  # type: ignore[operator]
    assert header_length(header + b"then the request", 4096) == len(header)
    assert parse_header(header) == socket_address(source, port)


@given(source=IPV4 | IPV6, port=PORT, cut=st.integers(0, 200))
def test_a_truncated_header_is_never_taken_for_a_whole_one(
    source: ipaddress.IPv4Address | ipaddress.IPv6Address, port: int, cut: int
) -> None:
    for header in (v1_header(source, port), v2_header(source, port)):
        # A valid start is never refused; more bytes are needed, or the length is the
        # whole header's (v2 says it up front): never a shorter one.
        length = header_length(header[: cut % len(header)], 4096)
        assert length is None or length == len(header)


NETWORKS = st.lists(
    st.one_of(
        st.tuples(IPV4, st.integers(0, 32)).map(
            lambda pair: ipaddress.IPv4Network(pair, strict=False)
        ),
        st.tuples(IPV6, st.integers(0, 128)).map(
            lambda pair: ipaddress.IPv6Network(pair, strict=False)
        ),
    ),
    max_size=4,
)


def reference_contains(
    networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network],
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> bool:
    """The membership a reader expects, IPv4-mapped addresses and networks taken as IPv4."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for network in networks:
        if isinstance(network, ipaddress.IPv6Network) and network.subnet_of(
            ipaddress.IPv6Network("::ffff:0:0/96")
        ):
            mapped = network.network_address.ipv4_mapped
            assert mapped is not None
            network = ipaddress.IPv4Network((mapped, network.prefixlen - 96))
        if ip.version == network.version and ip in network:
            return True
    return False


@given(networks=NETWORKS, ip=IPV4 | IPV6, port=PORT)
def test_network_membership_is_ipaddress_membership(
    networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network],
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address,
    port: int,
) -> None:
    allowed = Networks([str(network) for network in networks])
    expected = reference_contains(networks, ip)
    assert (str(ip) in allowed) is expected
    assert (socket_address(ip, port) in allowed) is expected


@given(ip=IPV4 | IPV6, port=PORT)
def test_host_and_port_reads_back_as_the_same_host_and_port(
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address, port: int
) -> None:
    parsed = urllib.parse.urlsplit("//" + host_and_port(str(ip), port))
    assert parsed.hostname is not None
    assert ipaddress.ip_address(parsed.hostname) == ip
    assert parsed.port == port


@given(ip=IPV4 | IPV6, scope=st.sampled_from(["", "%lo", "%1"]))
def test_an_ip_literal_is_served_on_its_own_family(
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address, scope: str
) -> None:
    host = str(ip) + (scope if ip.version == 6 else "")
    expected = socket.AF_INET if ip.version == 4 else socket.AF_INET6
    assert family_of_host(host, socket.SOCK_STREAM) == expected


@given(st.one_of(st.text(max_size=150), st.binary(max_size=150)))
def test_a_unix_address_is_a_file_an_abstract_name_or_a_clear_error(address: str | bytes) -> None:
    try:
        path = socket_file_path(address)
    except UnixPathTooLongError:
        assert (
            len(address.encode("utf-8", "surrogateescape") if isinstance(address, str) else address)
            > 100
        )
        return
    except ValueError as error:  # a NUL inside a path, which bind() would cut short
        assert "NUL" in str(error)  # noqa: PT017  # which ValueError is the property
        return
    except UnicodeEncodeError:  # a str the filesystem encoding cannot hold
        return
    raw = address.encode() if isinstance(address, str) else address
    if not raw or raw[0] == 0:
        assert path is None  # abstract (Linux): no file is made
    else:
        assert path == address
