"""A UDP echo server: the UDPServer example of the socketserver documentation."""

import socketserver
from typing import reveal_type


class MyUDPHandler(socketserver.BaseRequestHandler):
    """This class works similar to the TCP handler class, except that
    self.request consists of a pair of data and client socket, and since
    there is no connection the client address must be given explicitly
    when sending data back via sendto().
    """

    def handle(self) -> None:
        reveal_type(self.request)
        reveal_type(self.request[0])
        reveal_type(self.request[1])
        data = self.request[0].strip()
        socket = self.request[1]
        print(f"{self.client_address[0]} wrote:")
        print(data)
        socket.sendto(data.upper(), self.client_address)


class BigPacketUDPServer(socketserver.UDPServer):
    max_packet_size = 65507


if __name__ == "__main__":
    HOST, PORT = "localhost", 9999
    with socketserver.UDPServer((HOST, PORT), MyUDPHandler) as server:
        reveal_type(server)
        reveal_type(server.max_packet_size)
        reveal_type(server.socket_type)
        server.serve_forever()
