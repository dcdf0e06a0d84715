"""Serving until a signal: every server, drained together, and one closing line."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Sequence

from sockserve.core import BaseServer, RequestCounts, drain_on_signals, is_disconnect
from sockserve.mixins import Prefork

__all__ = ["serve_all"]

logger = logging.getLogger("sockserve.command")

Servable = BaseServer[object, object] | Prefork[object, object]


class _All:
    """Every server, as one: what ``drain_on_signals`` drains."""

    def __init__(self, servers: Sequence[BaseServer[object, object]]) -> None:
        self.servers = servers

    def request_drain(self, timeout: float) -> None:
        for server in self.servers:
            server.request_drain(timeout)


def serve_all(
    servers: Sequence[Servable], drain_timeout: float, announce: Callable[[], None]
) -> RequestCounts:
    """Serve until SIGTERM or Ctrl-C (a second one cuts at once); return the counts summed.

    Blocks. Each server beyond the first serves in a thread of its own; the
    main thread serves the first and takes the signals. ``announce`` is
    called once the signals drain the servers gracefully (whoever reads it,
    then signals at once, gets a drain, not the default kill), just before
    serving (a `Prefork` installs its own handlers as it starts).
    """
    first = servers[0]
    if isinstance(first, Prefork):  # it handles the signals itself, for all its workers
        _report_errors_in_one_line(first.server)  # before its workers fork
        with first:
            announce()
            first.serve_forever()
            return first.request_counts()
    plain = [s for s in servers if isinstance(s, BaseServer)]
    for server in plain:
        _report_errors_in_one_line(server)
    others = [threading.Thread(target=s.serve_forever, daemon=True) for s in plain[1:]]
    try:
        with drain_on_signals(_All(plain), drain_timeout):
            announce()
            for thread in others:
                thread.start()
            plain[0].serve_forever()
        for thread in others:
            thread.join()
    finally:
        for server in plain:
            server.server_close()
    total = RequestCounts(0, 0, 0, 0, 0, 0)
    for server in plain:
        total += server.request_counts()
    return total


def _report_errors_in_one_line(server: BaseServer[object, object]) -> None:
    def handle_error(request: object, client_address: object) -> None:
        error = sys.exc_info()[1]
        if is_disconnect(error):  # the server's own report: one line a second at most
            BaseServer.handle_error(server, request, client_address)
            return
        logger.error("error handling %s: %s: %s", client_address, type(error).__name__, error)
        logger.debug("the handler's traceback", exc_info=True)

    server.handle_error = handle_error  # type: ignore[method-assign]
