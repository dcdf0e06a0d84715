"""Servers used as context managers, with socket tuning set as class attributes."""

import socket
import socketserver
from typing import reveal_type


class NullHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        pass


class ReusableTCPServer(socketserver.TCPServer):
    allow_reuse_address = True
    allow_reuse_port = True
    request_queue_size = 64


class IPv6Server(ReusableTCPServer):
    address_family = socket.AF_INET6


def inspect(server: socketserver.TCPServer) -> None:
    reveal_type(server.fileno())
    reveal_type(server.socket)
    reveal_type(server.socket_type)
    reveal_type(server.address_family)
    reveal_type(server.allow_reuse_port)
    assert server.fileno() == server.socket.fileno()
    print(server.socket.getsockname(), server.request_queue_size)


if __name__ == "__main__":
    with ReusableTCPServer(("localhost", 0), NullHandler) as server:
        reveal_type(server)
        inspect(server)
        server.handle_request()

    with IPv6Server(("::1", 0, 0, 0), NullHandler) as server6:
        reveal_type(server6.server_address)
        inspect(server6)

    unbound = socketserver.TCPServer(("localhost", 0), NullHandler, bind_and_activate=False)
    with unbound:
        unbound.server_bind()
        unbound.server_activate()
        inspect(unbound)
