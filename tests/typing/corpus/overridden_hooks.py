"""A logging TCP server that overrides every BaseServer/TCPServer hook, each calling super()."""

import socket
import socketserver
import sys
from typing import Any, reveal_type

Request = socket.socket | tuple[bytes, socket.socket]


class AuditedTCPServer(socketserver.TCPServer):
    allowed_hosts = frozenset({"127.0.0.1", "::1"})

    def server_bind(self) -> None:
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        super().server_bind()
        reveal_type(self.server_address)

    def server_activate(self) -> None:
        print(f"listening, backlog {self.request_queue_size}", file=sys.stderr)
        super().server_activate()

    def get_request(self) -> tuple[socket.socket, Any]:
        pair = super().get_request()
        reveal_type(pair)
        return pair

    def verify_request(self, request: Request, client_address: tuple[str, int] | str) -> bool:
        host = client_address if isinstance(client_address, str) else client_address[0]
        return host in self.allowed_hosts and super().verify_request(request, client_address)

    def process_request(self, request: Request, client_address: tuple[str, int] | str) -> None:
        reveal_type(request)
        super().process_request(request, client_address)

    def finish_request(self, request: Request, client_address: Any) -> None:
        print(f"handling {client_address!r}", file=sys.stderr)
        super().finish_request(request, client_address)

    def handle_error(self, request: Request, client_address: Any) -> None:
        print(f"error from {client_address!r}", file=sys.stderr)
        super().handle_error(request, client_address)

    def shutdown_request(self, request: Request) -> None:
        super().shutdown_request(request)

    def close_request(self, request: Request) -> None:
        if isinstance(request, socket.socket):
            reveal_type(request.fileno())
        super().close_request(request)

    def service_actions(self) -> None:
        super().service_actions()

    def handle_timeout(self) -> None:
        print("no request within", self.timeout, file=sys.stderr)
        super().handle_timeout()


class EchoHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.request.sendall(self.request.recv(4096))


if __name__ == "__main__":
    with AuditedTCPServer(("127.0.0.1", 0), EchoHandler) as server:
        reveal_type(server.verify_request)
        server.serve_forever()
