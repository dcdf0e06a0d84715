"""A one-shot TCP echo server: the first TCPServer example of the socketserver documentation."""

import socket
import socketserver
from typing import reveal_type


class MyTCPHandler(socketserver.BaseRequestHandler):
    """The request handler class for our server.

    It is instantiated once per connection to the server, and must
    override the handle() method to implement communication to the
    client.
    """

    def handle(self) -> None:
        # self.request is the TCP socket connected to the client
        reveal_type(self.request)
        self.data = self.request.recv(1024).strip()
        reveal_type(self.data)
        reveal_type(self.client_address)
        print(f"{self.client_address[0]} wrote:")
        print(self.data)
        # just send back the same data, but upper-cased
        self.request.sendall(self.data.upper())


def send(host: str, port: int, data: str) -> str:
    """The documentation's client: send one line and read the answer."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.connect((host, port))
        sock.sendall(bytes(data + "\n", "utf-8"))
        received = str(sock.recv(1024), "utf-8")
    return received


if __name__ == "__main__":
    HOST, PORT = "localhost", 9999

    # Create the server, binding to localhost on port 9999
    with socketserver.TCPServer((HOST, PORT), MyTCPHandler) as server:
        reveal_type(server)
        reveal_type(server.server_address)
        # Activate the server; this will keep running until you
        # interrupt the program with Ctrl-C
        server.serve_forever()
