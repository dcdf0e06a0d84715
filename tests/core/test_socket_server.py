from __future__ import annotations

import socket

import pytest

from sockserve.core import BaseRequestHandler, DatagramServer, StreamServer


def test_a_server_without_a_family_says_so() -> None:
    with pytest.raises(TypeError, match=r"StreamServer\.address_family must be set"):
        StreamServer(("127.0.0.1", 0), BaseRequestHandler)


def test_a_datagram_server_without_a_family_says_so() -> None:
    with pytest.raises(TypeError, match=r"DatagramServer\.address_family must be set"):
        DatagramServer(("127.0.0.1", 0), BaseRequestHandler)


def test_stream_servers_listen_with_somaxconn_by_default() -> None:
    assert StreamServer.request_queue_size == socket.SOMAXCONN
    assert socket.SOMAXCONN > 5


def test_datagram_server_defaults_match_the_stdlib() -> None:
    assert DatagramServer.max_packet_size == 8192
    assert DatagramServer.socket_type == socket.SOCK_DGRAM
    assert not DatagramServer.allow_reuse_address
