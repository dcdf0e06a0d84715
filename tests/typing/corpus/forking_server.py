"""Forking TCP and UDP servers built with the ForkingMixIn class idiom, plus ForkingTCPServer."""

import os
import socketserver
from typing import reveal_type


class PidTCPHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        self.wfile.write(f"served by pid {os.getpid()}\n".encode())


class PidUDPHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        data, sock = self.request
        sock.sendto(data + f" pid={os.getpid()}".encode(), self.client_address)


class ForkingEchoTCPServer(socketserver.ForkingMixIn, socketserver.TCPServer):
    max_children = 8
    block_on_close = False
    allow_reuse_address = True


class ForkingEchoUDPServer(socketserver.ForkingMixIn, socketserver.UDPServer):
    max_children = 4


def report(server: socketserver.ForkingMixIn) -> None:
    reveal_type(server.active_children)
    children = server.active_children
    count = len(children) if children is not None else 0
    print(f"{count} of {server.max_children} children busy")
    server.collect_children(blocking=False)


if __name__ == "__main__":
    with ForkingEchoTCPServer(("localhost", 0), PidTCPHandler) as tcp:
        reveal_type(tcp)
        reveal_type(tcp.max_children)
        reveal_type(tcp.block_on_close)
        tcp.handle_request()
        report(tcp)
    with ForkingEchoUDPServer(("localhost", 0), PidUDPHandler) as udp:
        reveal_type(udp.timeout)
        udp.handle_request()
        report(udp)
    with socketserver.ForkingTCPServer(("localhost", 0), PidTCPHandler) as predefined:
        predefined.block_on_close = True
        reveal_type(predefined.active_children)
        predefined.serve_forever()
