"""A benchmark server process: ``python -m harness.server_main IMPL MODEL APP BIND``.

Binds ``BIND`` (a `harness.targets` spec, port 0 for any), prints the bound
spec as the first line of stdout, then serves until the harness kills it.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from harness.targets import announce, of_socket, parse, raise_fd_limit

#: Worker processes of the prefork variant: one per core of this 2-core machine.
PREFORK_WORKERS = 2


def serve_socketserver(impl: str, model: str, app: str, bind: str) -> None:
    """Serve with the stdlib's ``socketserver`` or sockserve's drop-in."""
    transport, address = parse(bind)
    if app == "http":
        from harness import apps_http

        server = apps_http.build(impl, address, model)
    else:
        from harness import apps_socketserver

        server = apps_socketserver.build(impl, model, app, transport, address)
    announce(of_socket(transport, server.socket))
    if model == "prefork":
        from sockserve.mixins import Prefork

        # A short drain: the harness stops servers with SIGTERM and kills them 5 s on.
        Prefork(server, workers=PREFORK_WORKERS, drain_timeout=1.0).serve_forever()  # type: ignore[arg-type]  # a sockserve server
    else:
        server.serve_forever()


def main(argv: Sequence[str]) -> None:
    """Start the server ``argv`` names.

    Raises:
        SystemExit: ``argv`` does not name a server this harness knows.
    """
    if len(argv) != 4:
        raise SystemExit("usage: python -m harness.server_main IMPL MODEL APP BIND")
    impl, model, app, bind = argv
    raise_fd_limit()
    if impl in ("stdlib", "sockserve"):
        serve_socketserver(impl, model, app, bind)
    elif impl in ("trio", "asyncio", "uvloop"):
        transport, address = parse(bind)
        if impl == "trio":
            from harness import apps_trio

            apps_trio.serve(app, transport, address)
        else:
            from harness import apps_asyncio

            apps_asyncio.serve(app, transport, address, uvloop=impl == "uvloop")
    else:
        raise SystemExit(f"unknown implementation {impl!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
