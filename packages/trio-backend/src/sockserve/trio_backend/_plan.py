"""How a trio server's requests are to be handled: its settings, checked before serving."""

from __future__ import annotations

import socket as _socket
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sockserve.core import AddressT, RequestT, check_idle_timeout, check_limit, check_seconds

from ._handlers import is_async_handler

if TYPE_CHECKING:
    from ._mixin import TrioMixIn

__all__ = ["Plan"]


@dataclass(frozen=True)
class Plan:
    """How a server's requests are to be handled, checked before any serving starts.

    Attributes:
        is_stream: The socket is a stream socket (connections), else datagrams.
        is_async: The handler class makes async handlers, else sync ones.
        limit: How many requests may be handled at once; None: no limit.
        idle_timeout: The idle timeout in seconds; None: none.
        request_deadline: Seconds a whole request may take; None: no deadline.
    """

    is_stream: bool
    is_async: bool
    limit: int | None
    idle_timeout: float | None
    request_deadline: float | None

    @classmethod
    def of(cls, server: TrioMixIn[RequestT, AddressT]) -> Plan:
        """Read and check ``server``'s settings.

        Raises:
            TypeError: ``max_connections``, ``max_threads``, ``idle_timeout`` or
                ``request_deadline`` is not a number.
            ValueError: One of them is out of range.
        """
        is_stream = server.socket.type == _socket.SOCK_STREAM
        is_async = is_async_handler(server.RequestHandlerClass)
        limit = check_limit(server.max_connections, "max_connections")
        if limit is None and not is_stream:
            limit = 1  # datagrams one at a time, as UDPServer: none wait in memory
        if not is_async:
            threads = check_limit(server.max_threads, "max_threads")
            if threads is None:
                raise ValueError("max_threads must be a positive int, got None")
            limit = threads if limit is None else min(limit, threads)
        deadline = server.request_deadline
        return cls(
            is_stream,
            is_async,
            limit,
            check_idle_timeout(server.idle_timeout),
            None if deadline is None else check_seconds(deadline, "request_deadline"),
        )
