"""The command line: ``sockserve serve ...`` and ``sockserve echo ...``."""

from __future__ import annotations

import argparse
import functools
import logging
import os
import ssl
import sys
from collections.abc import Sequence

from sockserve.core import NetworkAccess, ProxyProtocol
from sockserve.mixins import Prefork

from ._build import MODELS, Settings, build
from ._errors import UsageError
from ._handler import Handler, load, of_class
from ._listen import Listen, check, describe, parse_address
from ._run import serve_all

__all__ = ["main"]

PROG = "sockserve"
EPILOG = """\
examples:
  sockserve serve app:Handler                     the thread pool, on 127.0.0.1:8000
  sockserve serve app:Handler --tcp 0.0.0.0:80 --model prefork --workers 4
  sockserve serve --http public --tcp [::1]:8080   a directory, over HTTP
  sockserve echo --udp 127.0.0.1:9000              something to try a client on

SIGTERM or Ctrl-C drains: requests in flight get --drain-timeout seconds, then
are cut; a second one cuts at once. Exit status: 0 after a drain, 1 when the
server cannot start (one line on stderr says why), 2 for bad arguments.
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; return its exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        handler = _handler(args, parser)
        settings = _settings(args)
        listens = check(args.listen or [], settings.model)
        servers = [build(listen, handler, settings) for listen in listens]
    except UsageError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1

    def announce() -> None:
        for server in servers:
            sock = server.server.socket if isinstance(server, Prefork) else server.socket
            where = describe(sock)
            print(f"Serving {handler.name} ({_model_line(settings)}) on {where}", flush=True)

    try:
        counts = serve_all(servers, settings.drain_timeout, announce)
    except KeyboardInterrupt:  # before the handlers were in place, or a third Ctrl-C
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    print(
        f"Stopped: {counts.accepted} accepted, {counts.completed} completed, {counts.failed} "
        f"failed, {counts.refused} refused, {counts.cut} cut",
        flush=True,
    )
    return 0


def _handler(args: argparse.Namespace, parser: argparse.ArgumentParser) -> Handler:
    if args.command == "echo":
        from sockserve.inet.echo import DatagramEcho, LineEcho

        datagram = any(listen.is_datagram for listen in args.listen or [])
        cls = DatagramEcho if datagram else LineEcho
        return of_class(cls, "echo")
    if args.http is not None:
        if args.handler is not None:
            parser.error("give a handler or --http, not both")
        import http.server

        directory = args.http or "."
        factory = functools.partial(http.server.SimpleHTTPRequestHandler, directory=directory)
        handler = of_class(http.server.SimpleHTTPRequestHandler, f"http.server ({directory})")
        return Handler(factory, handler.name, True, False, False)
    if args.handler is None:
        parser.error("give MODULE:HandlerClass, or --http [DIR]")
    return load(args.handler)


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings(
        model=args.model,
        pool_size=args.pool_size,
        workers=args.workers,
        max_connections=args.max_connections,
        idle_timeout=args.timeout,
        drain_timeout=args.drain_timeout,
        http=args.command == "serve" and args.http is not None,
    )
    if args.tls_cert is not None:
        settings.ssl_context = _tls_context(args.tls_cert, args.tls_key)
    elif args.tls_key is not None:
        raise UsageError("--tls-key needs --tls-cert")
    if args.proxy_protocol:
        settings.proxy_protocol = ProxyProtocol(args.trusted or ["127.0.0.1", "::1"])
    if args.allow:
        settings.access = NetworkAccess(allow=args.allow)
    return settings


def _tls_context(cert: str, key: str | None) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise UsageError(f"cannot load the TLS certificate {cert!r}: {exc}") from None
    return context


def _model_line(settings: Settings) -> str:
    if settings.model == "pool":
        return f"a pool of {settings.pool_size or 32} threads"
    if settings.model == "prefork":
        workers = settings.workers or os.cpu_count() or 1
        return f"{workers} worker processes, each a pool of {settings.pool_size or 32} threads"
    return {"sync": "one request at a time", "threads": "a thread per request",
            "fork": "a child per request", "trio": "trio"}[settings.model]  # fmt: skip


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Run a socketserver request handler with the concurrency model you choose.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser("serve", help="serve a handler class, or a directory over HTTP")
    serve.add_argument(
        "handler",
        nargs="?",
        metavar="MODULE:HandlerClass",
        help="the handler to run (sync or async), imported from here",
    )
    serve.add_argument(
        "--http", nargs="?", const="", metavar="DIR", help="serve DIR (.) with http.server"
    )
    echo = commands.add_parser("echo", help="echo lines (TCP, Unix) or datagrams (UDP)")
    for command in (serve, echo):
        _add_common(command)
    return parser


def _add_common(parser: argparse.ArgumentParser) -> None:
    where = parser.add_argument_group("where to listen (several at once; 127.0.0.1:8000)")
    listen = functools.partial(where.add_argument, dest="listen", action="append")

    def tcp(text: str) -> Listen:
        return Listen("tcp", parse_address(text))

    def udp(text: str) -> Listen:
        return Listen("udp", parse_address(text))

    listen("--tcp", type=tcp, metavar="HOST:PORT", help="connections ([::1]:8000 for IPv6)")
    listen("--udp", type=udp, metavar="HOST:PORT", help="datagrams")
    listen("--unix", type=lambda t: Listen("unix", t), metavar="PATH", help="a Unix socket file")
    listen("--fd", type=lambda t: Listen("fd", int(t)), metavar="N", help="an inherited socket")
    listen(
        "--systemd",
        nargs="?",
        const=Listen("systemd", None),
        metavar="NAME",
        type=lambda t: Listen("systemd", t),
        help="a socket systemd passed (by name)",
    )
    model = parser.add_argument_group("how to serve")
    model.add_argument("--model", choices=MODELS, default="pool", help="concurrency (pool)")
    model.add_argument("--pool-size", type=int, metavar="N", help="threads in the pool (32)")
    model.add_argument("--workers", type=int, metavar="N", help="prefork processes (one per CPU)")
    model.add_argument("--max-connections", type=int, metavar="N", help="most in flight")
    model.add_argument("--timeout", type=float, metavar="S", help="a connection's idle timeout")
    model.add_argument(
        "--drain-timeout",
        type=float,
        default=30.0,
        metavar="S",
        help="the grace SIGTERM and Ctrl-C give requests in flight (30)",
    )
    secure = parser.add_argument_group("security")
    secure.add_argument("--tls-cert", metavar="PEM", help="serve TLS with this certificate")
    secure.add_argument("--tls-key", metavar="PEM", help="its private key (if not in --tls-cert)")
    secure.add_argument(
        "--proxy-protocol", action="store_true", help="read a PROXY header (v1, v2) first"
    )
    secure.add_argument(
        "--trusted", action="append", metavar="NET", help="a proxy that may send one (loopback)"
    )
    secure.add_argument("--allow", action="append", metavar="NET", help="let in only these")
    levels = ["debug", "info", "warning", "error"]
    parser.add_argument("--log-level", default="info", choices=levels, help="(info)")
