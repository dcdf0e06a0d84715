"""A UDP key-value lookup service built on DatagramRequestHandler's file-like streams."""

import socketserver
import threading
from typing import reveal_type

TABLE = {b"hello": b"world", b"ping": b"pong"}


class LookupHandler(socketserver.DatagramRequestHandler):
    def handle(self) -> None:
        reveal_type(self.packet)
        reveal_type(self.socket)
        reveal_type(self.rfile)
        key = self.rfile.read().strip()
        reveal_type(key)
        value = TABLE.get(key, b"?")
        self.wfile.write(value + b"\n")
        # finish() sends what was written to wfile back to the client.


class RawEchoHandler(socketserver.DatagramRequestHandler):
    def handle(self) -> None:
        peer = self.socket.getsockname()
        print(f"{len(self.packet)} bytes from {self.client_address!r} on {peer!r}")
        self.socket.sendto(self.packet, self.client_address)


if __name__ == "__main__":
    with socketserver.UDPServer(("localhost", 0), LookupHandler) as single:
        reveal_type(single.get_request)
        single.handle_request()

    with socketserver.ThreadingUDPServer(("localhost", 0), RawEchoHandler) as threaded:
        threaded.daemon_threads = True
        reveal_type(threaded)
        worker = threading.Thread(target=threaded.serve_forever, daemon=True)
        worker.start()
        threaded.shutdown()
        worker.join()
