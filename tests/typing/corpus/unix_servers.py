"""Unix-domain stream and datagram servers bound to sockets in a temporary directory."""

import os
import socketserver
import tempfile
import threading
from typing import reveal_type


class UnixEchoHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        reveal_type(self.client_address)
        for line in self.rfile:
            self.wfile.write(line)


class UnixDatagramHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        data, sock = self.request
        if self.client_address:
            sock.sendto(data.upper(), self.client_address)


def serve_stream(path: str) -> None:
    with socketserver.UnixStreamServer(path, UnixEchoHandler) as server:
        reveal_type(server.server_address)
        reveal_type(server.address_family)
        server.handle_request()


def serve_datagram(path: str) -> None:
    with socketserver.UnixDatagramServer(path, UnixDatagramHandler) as server:
        reveal_type(server)
        reveal_type(server.server_address)
        server.handle_request()


def serve_threaded(path: str) -> socketserver.ThreadingUnixStreamServer:
    server = socketserver.ThreadingUnixStreamServer(path, UnixEchoHandler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        serve_stream(os.path.join(tmp, "stream.sock"))
        serve_datagram(os.path.join(tmp, "dgram.sock"))
        threaded = serve_threaded(os.path.join(tmp, "threaded.sock"))
        reveal_type(threaded.server_address)
        threaded.shutdown()
        threaded.server_close()
