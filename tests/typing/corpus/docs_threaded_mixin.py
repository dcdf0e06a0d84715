"""A threaded TCP server: the asynchronous mixins example of the socketserver documentation."""

import socket
import socketserver
import threading
from typing import reveal_type


class ThreadedTCPRequestHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        data = str(self.request.recv(1024), "ascii")
        cur_thread = threading.current_thread()
        response = bytes(f"{cur_thread.name}: {data}", "ascii")
        self.request.sendall(response)


class ThreadedTCPServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    pass


def client(ip: str | bytes | bytearray, port: int, message: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.connect((ip, port))
        sock.sendall(bytes(message, "ascii"))
        response = str(sock.recv(1024), "ascii")
        print(f"Received: {response}")


if __name__ == "__main__":
    # Port 0 means to select an arbitrary unused port
    HOST, PORT = "localhost", 0

    server = ThreadedTCPServer((HOST, PORT), ThreadedTCPRequestHandler)
    reveal_type(server)
    reveal_type(server.daemon_threads)
    with server:
        # `ip, port = server.server_address` does not type-check: the address
        # may also be an AF_INET6 4-tuple.
        reveal_type(server.server_address)
        ip = server.server_address[0]
        port = server.server_address[1]
        reveal_type(ip)
        reveal_type(port)

        # Start a thread with the server -- that thread will then start one
        # more thread for each request
        server_thread = threading.Thread(target=server.serve_forever)
        # Exit the server thread when the main thread terminates
        server_thread.daemon = True
        server_thread.start()
        print("Server loop running in thread:", server_thread.name)

        client(ip, port, "Hello World 1")
        client(ip, port, "Hello World 2")
        client(ip, port, "Hello World 3")

        server.shutdown()
