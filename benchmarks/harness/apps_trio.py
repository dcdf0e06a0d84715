"""Raw trio servers, written the way trio's documentation writes them: the reference point."""

from __future__ import annotations

import socket
from contextlib import suppress
from functools import partial

import trio

from harness.targets import HOST, Address, Transport, announce, of_socket


async def echo(stream: trio.abc.Stream) -> None:
    """Echo every chunk until the client closes (or resets: trio would raise it to the server)."""
    with suppress(trio.BrokenResourceError):
        async for chunk in stream:
            await stream.send_all(chunk)


async def echo_one_line(stream: trio.abc.Stream) -> None:
    """Echo one line; ``serve_listeners`` then closes the stream."""
    line = b""
    with suppress(trio.BrokenResourceError):
        while not line.endswith(b"\n"):
            chunk = await stream.receive_some()
            if not chunk:
                return
            line += chunk
        await stream.send_all(line)


async def serve_stream(app: str, transport: Transport, address: Address) -> None:
    """Serve ``app`` on TCP (``trio.serve_tcp``) or on a Unix stream socket until killed."""
    handler = echo if app == "echo" else echo_one_line
    async with trio.open_nursery() as nursery:
        if transport == "tcp":
            assert isinstance(address, tuple)
            listeners: list[trio.SocketListener] = await nursery.start(
                partial(trio.serve_tcp, handler, address[1], host=HOST)
            )
        else:
            sock = trio.socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            await sock.bind(address)
            sock.listen(socket.SOMAXCONN)
            listeners = [trio.SocketListener(sock)]
            nursery.start_soon(trio.serve_listeners, handler, listeners)
        announce(of_socket(transport, listeners[0].socket))


async def serve_udp(address: Address) -> None:
    """Echo datagrams until killed."""
    sock = trio.socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    await sock.bind(address)
    announce(of_socket("udp", sock))
    while True:
        data, peer = await sock.recvfrom(65536)
        await sock.sendto(data, peer)


def serve(app: str, transport: Transport, address: Address) -> None:
    """Run the trio server for ``app`` until the process is killed."""
    if transport == "udp":
        trio.run(serve_udp, address)
    else:
        trio.run(serve_stream, app, transport, address)
