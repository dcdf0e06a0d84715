"""Helpers that run "any server" and build servers from any handler class."""

import os
import socketserver
import tempfile
import threading
from typing import reveal_type


class EchoHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        print(f"request from {self.client_address!r}")


def run(server: socketserver.BaseServer) -> None:
    reveal_type(server.server_address)
    reveal_type(server.RequestHandlerClass)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    server.shutdown()
    thread.join()
    server.server_close()


def describe(server: socketserver.BaseServer) -> str:
    if isinstance(server, socketserver.TCPServer):
        reveal_type(server.server_address)
        return f"{type(server).__name__} on fd {server.fileno()}"
    return type(server).__name__


def tcp_server_for(handler: type[socketserver.BaseRequestHandler]) -> socketserver.TCPServer:
    reveal_type(handler)
    return socketserver.TCPServer(("localhost", 0), handler)


def servers_for(
    handler: type[socketserver.BaseRequestHandler], unix_path: str
) -> list[socketserver.BaseServer]:
    return [
        tcp_server_for(handler),
        socketserver.UDPServer(("localhost", 0), handler),
        socketserver.ThreadingTCPServer(("localhost", 0), handler),
        socketserver.UnixStreamServer(unix_path, handler),
    ]


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        servers = servers_for(EchoHandler, os.path.join(tmp, "echo.sock"))
        reveal_type(servers)
        for server in servers:
            print(describe(server))
            run(server)
