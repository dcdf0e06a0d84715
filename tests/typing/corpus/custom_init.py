"""A greeting server whose __init__ takes extra configuration that its handlers read back."""

import functools
import socketserver
from typing import Any, cast, reveal_type


class GreetingServer(socketserver.ThreadingTCPServer):
    daemon_threads = True

    def __init__(
        self,
        server_address: tuple[str, int],
        RequestHandlerClass: type[socketserver.BaseRequestHandler],
        greeting: str,
        *,
        bind_and_activate: bool = True,
    ) -> None:
        self.greeting = greeting
        self.served = 0
        super().__init__(server_address, RequestHandlerClass, bind_and_activate)


class GreetingHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        reveal_type(self.server)
        assert isinstance(self.server, GreetingServer)
        reveal_type(self.server)
        self.server.served += 1
        self.wfile.write(f"{self.server.greeting} #{self.server.served}\n".encode())


class CastingHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        server = cast(GreetingServer, self.server)
        name = self.rfile.readline().strip().decode()
        self.wfile.write(f"{server.greeting}, {name}\n".encode())


class PrefixHandler(socketserver.BaseRequestHandler):
    """Configured per server through functools.partial instead of a server attribute."""

    def __init__(
        self,
        request: Any,
        client_address: Any,
        server: socketserver.BaseServer,
        *,
        prefix: bytes,
    ) -> None:
        self.prefix = prefix  # set first: the base __init__ runs handle()
        super().__init__(request, client_address, server)

    def handle(self) -> None:
        self.request.sendall(self.prefix + self.request.recv(1024))


if __name__ == "__main__":
    with GreetingServer(("localhost", 0), GreetingHandler, "Hello") as server:
        reveal_type(server)
        reveal_type(server.greeting)
        server.serve_forever()
    factory = functools.partial(PrefixHandler, prefix=b">> ")
    with socketserver.TCPServer(("localhost", 0), factory) as plain:
        reveal_type(plain.RequestHandlerClass)
        plain.serve_forever()
