"""A line-based TCP server: the docs' alternative handler class built on StreamRequestHandler."""

import socketserver
from typing import reveal_type


class MyTCPHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        # self.rfile is a file-like object created by the handler;
        # we can now use e.g. readline() instead of raw recv() calls
        reveal_type(self.rfile)
        self.data = self.rfile.readline().strip()
        reveal_type(self.data)
        print(f"{self.client_address[0]} wrote:")
        print(self.data)
        # Likewise, self.wfile is a file-like object used to write back
        # to the client
        reveal_type(self.wfile)
        written = self.wfile.write(self.data.upper())
        reveal_type(written)
        reveal_type(self.connection)


class BoundedLineHandler(socketserver.StreamRequestHandler):
    """The newer docs' variant: bound the line length and tune the streams."""

    rbufsize = -1
    wbufsize = 0
    timeout = 5.0
    disable_nagle_algorithm = True

    def handle(self) -> None:
        line = self.rfile.readline(10000).rstrip()
        self.wfile.write(line.upper() + b"\n")
        self.wfile.flush()


if __name__ == "__main__":
    HOST, PORT = "localhost", 9999

    with socketserver.TCPServer((HOST, PORT), MyTCPHandler) as server:
        reveal_type(server.RequestHandlerClass)
        server.serve_forever()
