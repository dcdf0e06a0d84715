"""A trio-ecosystem protocol library on the async handler's stream: HTTP/1.1 with h11.

h11 is sans-I/O: the handler moves bytes between ``self.stream`` and h11's
state machine, as trio programs using h11 do. A real HTTP client
(``http.client``) makes keep-alive requests to it.
"""

from __future__ import annotations

import http.client
import socket

import h11
import trio

from sockserve.trio_backend import AsyncStreamRequestHandler, TrioMixIn

from .conftest import WAIT, CoreTCPServer, Serve

Address = tuple[str, int]


class H11Server(TrioMixIn[socket.socket, Address], CoreTCPServer):
    """Core's TCP family, served by trio, for an h11 handler."""


class Hello(AsyncStreamRequestHandler[H11Server, Address]):
    """Answers every request with the path it asked for, over one kept-alive connection."""

    async def handle(self) -> None:
        connection = h11.Connection(h11.SERVER)
        while True:
            event = await self.next_event(connection)
            if isinstance(event, h11.Request):
                await self.answer(connection, event)
            elif isinstance(event, h11.ConnectionClosed):
                return
            if connection.our_state is h11.DONE and connection.their_state is h11.DONE:
                connection.start_next_cycle()

    async def next_event(self, connection: h11.Connection) -> object:
        while True:
            event = connection.next_event()
            if event is not h11.NEED_DATA:
                return event
            connection.receive_data(await self.stream.receive_some())

    async def answer(self, connection: h11.Connection, request: h11.Request) -> None:
        while not isinstance(await self.next_event(connection), h11.EndOfMessage):
            pass  # no body expected: skip to the end of the request
        body = b"you asked for " + request.target
        headers = [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))]
        for event in (h11.Response(status_code=200, headers=headers), h11.Data(data=body)):
            await self.stream.send_all(connection.send(event) or b"")
        await self.stream.send_all(connection.send(h11.EndOfMessage()) or b"")


def test_h11_serves_keep_alive_requests_over_the_handlers_stream(serve: Serve) -> None:
    server = H11Server(("127.0.0.1", 0), Hello)
    serve(server)
    client = http.client.HTTPConnection(*server.server_address, timeout=WAIT)
    try:
        for path in ("/one", "/two", "/three"):
            client.request("GET", path)
            response = client.getresponse()
            assert (response.status, response.read()) == (200, b"you asked for " + path.encode())
    finally:
        client.close()


async def test_h11_in_a_structured_trio_program() -> None:
    with H11Server(("127.0.0.1", 0), Hello) as server:
        async with trio.open_nursery() as nursery:
            host, port = await nursery.start(server.serve)
            stream = await trio.open_tcp_stream(host, port)
            async with stream:
                await stream.send_all(b"GET /structured HTTP/1.1\r\nHost: x\r\n\r\n")
                reply = b""
                while not reply.endswith(b"you asked for /structured"):
                    reply += await stream.receive_some()
            assert reply.startswith(b"HTTP/1.1 200 ")
            assert (await server.adrain(1)).cut == 0
