"""``asyncio.start_server`` and friends, written the way asyncio's documentation writes them."""

from __future__ import annotations

import asyncio
from typing import cast

from harness.targets import Address, Transport, announce, of_socket


async def echo_lines(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Echo lines until the client closes."""
    while line := await reader.readline():
        writer.write(line)
        await writer.drain()
    writer.close()


async def echo_one_line(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Echo one line, then close."""
    writer.write(await reader.readline())
    await writer.drain()
    writer.close()


class DatagramEcho(asyncio.DatagramProtocol):
    """Echo each datagram to its sender."""

    transport: asyncio.DatagramTransport

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the transport to reply through."""
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        """Send ``data`` back."""
        self.transport.sendto(data, addr)


async def serve_async(app: str, transport: Transport, address: Address) -> None:
    """Serve ``app`` until killed."""
    loop = asyncio.get_running_loop()
    if transport == "udp":
        udp, _ = await loop.create_datagram_endpoint(DatagramEcho, local_addr=address)
        announce(of_socket("udp", udp.get_extra_info("socket")))
        await asyncio.Event().wait()
    handler = echo_lines if app == "echo" else echo_one_line
    if isinstance(address, tuple):
        server = await asyncio.start_server(handler, *address)
    else:
        server = await asyncio.start_unix_server(handler, address)
    announce(of_socket(transport, server.sockets[0]))
    await server.serve_forever()


def serve(app: str, transport: Transport, address: Address, *, uvloop: bool = False) -> None:
    """Run the asyncio server for ``app`` until the process is killed; on uvloop's loop if asked."""
    if uvloop:
        import uvloop as fast_loop

        fast_loop.run(serve_async(app, transport, address))
    else:
        asyncio.run(serve_async(app, transport, address))
