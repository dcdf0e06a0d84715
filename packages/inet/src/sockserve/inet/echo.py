"""A line echo server: ``python -m sockserve.inet.echo [--host H] [--port P] [--udp]``.

Binds loopback by default (``--host ::1`` for IPv6), prints ``Serving TCP
echo on HOST:PORT`` once it listens (``--port 0`` picks a free port), and
serves until Ctrl-C. An address it cannot listen on is one line on stderr
and exit status 1.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence

from sockserve.core import DatagramRequestHandler, StreamRequestHandler

from ._family import host_and_port
from ._servers import InetAddress, TCPServer, UDPServer

#: The most of a line held at once: a longer one is echoed a piece at a time, so
#: that a client sending an endless line cannot grow the server's memory.
MAX_LINE = 64 * 1024


class LineEcho(StreamRequestHandler[TCPServer, InetAddress]):
    """Sends every line it reads straight back, until the client closes.

    A line longer than `MAX_LINE` bytes goes back in pieces of that size.
    """

    def handle(self) -> None:
        """Echo lines until end of file."""
        while line := self.rfile.readline(MAX_LINE):
            self.wfile.write(line)


class DatagramEcho(DatagramRequestHandler[UDPServer, InetAddress]):
    """Sends every datagram straight back."""

    def handle(self) -> None:
        """Copy the datagram to the reply."""
        self.wfile.write(self.rfile.read())


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line; exit with a usage message on bad input."""
    parser = argparse.ArgumentParser(prog="python -m sockserve.inet.echo", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default: 8000; 0: any)")
    parser.add_argument("--udp", action="store_true", help="echo datagrams instead of lines")
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f"--port must be between 0 and 65535, got {args.port}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the echo server until interrupted; return the exit status."""
    args = parse_args(argv)
    server: TCPServer | UDPServer
    try:
        if args.udp:
            server = UDPServer((args.host, args.port), DatagramEcho)
        else:
            server = TCPServer((args.host, args.port), LineEcho)
    except OSError as exc:  # in use, not ours to bind, or a host that does not resolve
        where = host_and_port(args.host, args.port)
        print(f"python -m sockserve.inet.echo: cannot listen on {where}: {exc}", file=sys.stderr)
        return 1
    with server:
        where = host_and_port(*server.server_address[:2])
        print(f"Serving {'UDP' if args.udp else 'TCP'} echo on {where}", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            # A second Ctrl-C while closing must not end in a traceback.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            print("Stopped.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
