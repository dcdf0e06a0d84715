"""HAProxy's PROXY protocol, versions 1 and 2: the real client's address, from a trusted proxy.

A proxy in front of the server opens each connection with a header that
says who the client is. The header is read here, exactly (not one byte of
what follows, which may be a TLS handshake), within a deadline and a size
limit; the parser is shared by the sync reader here and the trio
backend's async one.
"""

from __future__ import annotations

import socket as _socket
import struct
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ._networks import IPNetwork, Networks
from ._refusal import AdmissionError

if TYPE_CHECKING:
    import ipaddress
from ._settings import check_limit, check_seconds

__all__ = ["AdmissionError", "ProxyProtocol", "header_length", "parse_header"]

V1_PREFIX = b"PROXY "
V1_MAX = 107  # the longest v1 header, CRLF included (the spec's figure)
V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
_V2_FIXED = struct.Struct("!12sBBH")  # signature, version and command, family, length
_V2_IPV4 = struct.Struct("!4s4sHH")
_V2_IPV6 = struct.Struct("!16s16sHH")
_V2_UNIX = struct.Struct("!108s108s")


class ProxyProtocol:
    """Read a PROXY protocol header (v1 or v2) on each connection: ``server.proxy_protocol = ...``.

    The header's client address replaces the proxy's in ``client_address``
    (an IPv6 client's as a 4-tuple). A connection from an address not in
    ``trusted`` is refused, as is one whose header is malformed, longer
    than ``max_size``, or not complete within ``timeout``: closed, with a
    log line, and counted as refused. A ``LOCAL`` (v2) or ``UNKNOWN`` (v1)
    header keeps the proxy's own address (health checks send those).

    On a Unix stream server every peer counts as trusted: the socket
    file's permissions decide who may connect.

    Args:
        trusted: The proxies' networks (CIDR strings or addresses).
        timeout: Seconds the whole header may take to arrive.
        max_size: The longest header accepted (v2 may carry extensions).

    Raises:
        TypeError, ValueError: A network is malformed, ``timeout`` is not a
            positive number, or ``max_size`` not an int of at least 107.
    """

    def __init__(
        self,
        trusted: Iterable[str | IPNetwork],
        *,
        timeout: float = 5.0,
        max_size: int = 4096,
    ) -> None:
        self.trusted: Networks = Networks(trusted)
        self.timeout: float = check_seconds(timeout, "the PROXY header timeout")
        size = check_limit(max_size, "max_size")
        if size is None or size < V1_MAX:
            raise ValueError(f"max_size must be an int of at least {V1_MAX}, got {max_size!r}")
        self.max_size = size

    def check_trusted(self, sock: _socket.socket, peer: object) -> None:
        """Refuse a header from anyone but a trusted proxy.

        Raises:
            AdmissionError: ``peer`` is an IP address outside `trusted`.
        """
        if sock.family != _socket.AF_UNIX and peer not in self.trusted:
            raise AdmissionError("a PROXY header is accepted only from a trusted proxy")

    def read(self, sock: _socket.socket, peer: object) -> object:
        """Read the header from ``sock`` (blocking, up to `timeout`); return the client's address.

        Raises:
            AdmissionError: Untrusted, malformed, oversized, slow, or closed first.
        """
        self.check_trusted(sock, peer)
        deadline = time.monotonic() + self.timeout
        previous = sock.gettimeout()
        try:
            header = _read_sync(sock, deadline, self.max_size)
        except TimeoutError:
            raise AdmissionError(f"no complete PROXY header within {self.timeout:g} s") from None
        except OSError as exc:
            raise AdmissionError(f"the connection failed during its PROXY header: {exc}") from None
        finally:
            sock.settimeout(previous)
        return self.address_from(header, sock, peer)

    def address_from(self, header: bytes, sock: _socket.socket, peer: object) -> object:
        """The client address a complete ``header`` on ``sock`` gives (else ``peer``'s).

        A Unix-socket client of the proxy has no address an IP server's
        handlers could use: the proxy's own stands for it.

        Raises:
            AdmissionError: The header is malformed.
        """
        address = parse_header(header)
        if address is None or (isinstance(address, str) and sock.family != _socket.AF_UNIX):
            return peer
        return address


def _read_sync(sock: _socket.socket, deadline: float, limit: int) -> bytes:
    header = b""
    while True:
        sock.settimeout(_remaining(deadline))
        peeked = sock.recv(limit - len(header), _socket.MSG_PEEK)
        if not peeked:
            raise AdmissionError("the connection closed before its PROXY header ended")
        length = header_length(header + peeked, limit)
        take = len(peeked) if length is None else length - len(header)
        header += _receive_exactly(sock, take, deadline)
        if length is not None:
            return header


def _receive_exactly(sock: _socket.socket, count: int, deadline: float) -> bytes:
    chunks: list[bytes] = []
    while count:
        sock.settimeout(_remaining(deadline))
        chunk = sock.recv(count)
        if not chunk:
            raise AdmissionError("the connection closed before its PROXY header ended")
        chunks.append(chunk)
        count -= len(chunk)
    return b"".join(chunks)


def _remaining(deadline: float) -> float:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError
    return remaining


def header_length(data: bytes, limit: int) -> int | None:
    """The length of the header ``data`` begins with; None while more bytes are needed.

    Raises:
        AdmissionError: ``data`` cannot begin a header, or the header exceeds ``limit``.
    """
    if data[:1] == b"P":
        if not V1_PREFIX.startswith(data[:6]):
            raise AdmissionError("malformed PROXY header")
        end = data.find(b"\r\n", 0, V1_MAX)
        if end >= 0:
            return end + 2
        if len(data) >= V1_MAX:
            raise AdmissionError(f"PROXY v1 header longer than {V1_MAX} bytes")
        return None
    if not V2_SIGNATURE.startswith(data[:12]):
        raise AdmissionError("no PROXY header: the connection did not start with one")
    if len(data) < _V2_FIXED.size:
        return None
    length = _V2_FIXED.size + int.from_bytes(data[14:16], "big")
    if length > limit:
        raise AdmissionError(f"PROXY v2 header of {length} bytes, over the limit of {limit}")
    return length


def parse_header(header: bytes) -> object:
    """The client address a complete header gives; None to keep the proxy's own.

    Raises:
        AdmissionError: The header is malformed.
    """
    if header.startswith(V1_PREFIX):
        return _parse_v1(header)
    return _parse_v2(header)


def _parse_v1(header: bytes) -> object:
    fields = header[len(V1_PREFIX) : -2].split(b" ")
    if fields[0] == b"UNKNOWN":
        return None
    if len(fields) != 5 or fields[0] not in (b"TCP4", b"TCP6"):
        raise AdmissionError("malformed PROXY v1 header")
    protocol, source, destination, source_port, destination_port = fields
    version = 4 if protocol == b"TCP4" else 6
    try:
        ip = _v1_ip(source, version)
        _v1_ip(destination, version)
        port = _port(source_port)
        _port(destination_port)
    except (UnicodeDecodeError, ValueError):
        raise AdmissionError("malformed PROXY v1 header") from None
    return _ip_address(ip, port)


def _v1_ip(field: bytes, version: int) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    import ipaddress

    if b"%" in field:  # a scope ("fe80::1%eth0") is the proxy's business, not an address here
        raise ValueError("a scoped address")
    ip = ipaddress.ip_address(field.decode("ascii"))
    if ip.version != version:
        raise ValueError("an address not of the header's family")
    return ip


def _port(field: bytes) -> int:
    if not field.isdigit() or len(field) > 5 or int(field) > 65535:
        raise ValueError("not a port")
    return int(field)


def _parse_v2(header: bytes) -> object:
    _signature, version_command, family, _length = _V2_FIXED.unpack_from(header)
    version, command = version_command >> 4, version_command & 0x0F
    if version != 2 or command not in (0, 1):
        raise AdmissionError("malformed PROXY v2 header: unknown version or command")
    if command == 0 or family == 0:  # LOCAL (a health check), or UNSPEC
        return None
    if family & 0x0F != 1:
        raise AdmissionError("PROXY v2 header for a datagram, on a stream connection")
    import ipaddress

    body = header[_V2_FIXED.size :]
    transport = family >> 4
    try:
        if transport == 1:
            source, _, port, _ = _V2_IPV4.unpack_from(body)
            return _ip_address(ipaddress.IPv4Address(source), port)
        if transport == 2:
            source, _, port, _ = _V2_IPV6.unpack_from(body)
            return _ip_address(ipaddress.IPv6Address(source), port)
        if transport == 3:
            source, _ = _V2_UNIX.unpack_from(body)
            return source.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
    except struct.error:
        raise AdmissionError("malformed PROXY v2 header: too short for its addresses") from None
    raise AdmissionError(f"malformed PROXY v2 header: unknown address family {family:#x}")


def _ip_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, port: int) -> object:
    return (str(ip), port) if ip.version == 4 else (str(ip), port, 0, 0)
