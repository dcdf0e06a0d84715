"""Handlers the command tests run, as a user's module would hold them."""

# mypy: allow-subclassing-any
from __future__ import annotations

import socketserver

from sockserve.trio_backend import AsyncStreamRequestHandler


class Upper(socketserver.StreamRequestHandler):
    """Written for the stdlib: upper-cases lines; ``boom`` raises."""

    def handle(self) -> None:
        for line in self.rfile:
            if line.strip() == b"boom":
                raise RuntimeError("boom on purpose")
            self.wfile.write(line.upper())


class DatagramUpper(socketserver.DatagramRequestHandler):
    def handle(self) -> None:
        self.wfile.write(self.rfile.read().upper())


class AsyncUpper(AsyncStreamRequestHandler):
    async def handle(self) -> None:
        while line := await self.receive_line():
            await self.send(line.upper())


NOT_A_HANDLER = 42
