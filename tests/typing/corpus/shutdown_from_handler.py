"""A control server that a client stops with "quit", and a handle_request() loop with timeouts."""

import socketserver
import threading
from typing import reveal_type


class ControlHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        command = self.rfile.readline().strip()
        if command == b"quit":
            self.wfile.write(b"bye\n")
            reveal_type(self.server)
            reveal_type(self.server.shutdown)
            # shutdown() blocks until serve_forever() returns: never call it
            # from the thread that serves this request.
            threading.Thread(target=self.server.shutdown).start()
        else:
            self.wfile.write(b"unknown command\n")


class PollingServer(socketserver.TCPServer):
    timeout = 0.5

    def __init__(self, server_address: tuple[str, int]) -> None:
        super().__init__(server_address, ControlHandler)
        self.idle_ticks = 0

    def handle_timeout(self) -> None:
        self.idle_ticks += 1
        super().handle_timeout()


def poll(server: PollingServer, max_idle: int) -> int:
    reveal_type(server.timeout)
    while server.idle_ticks < max_idle:
        server.handle_request()
    return server.idle_ticks


if __name__ == "__main__":
    with socketserver.ThreadingTCPServer(("localhost", 0), ControlHandler) as server:
        reveal_type(server.timeout)
        server.timeout = None
        server.serve_forever(poll_interval=0.1)

    with PollingServer(("localhost", 0)) as polling:
        reveal_type(polling.idle_ticks)
        reveal_type(poll(polling, max_idle=3))
