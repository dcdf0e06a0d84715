"""The servers to run: one class per place to listen, from the model and the settings."""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass, field
from typing import cast

from sockserve.core import BaseServer, NetworkAccess, ProxyProtocol, activated_sockets
from sockserve.inet import TCPServer, UDPServer, host_and_port
from sockserve.mixins import ForkingMixIn, Prefork, ThreadingMixIn, ThreadPoolMixIn
from sockserve.servers import HTTPServer
from sockserve.unix import UnixDatagramServer, UnixStreamServer

from ._errors import UsageError
from ._handler import Handler
from ._listen import Listen

__all__ = ["MODELS", "Settings", "build"]

#: The concurrency models, as the command names them.
MODELS = ("sync", "threads", "pool", "fork", "prefork", "trio")


@dataclass
class Settings:
    """What every server gets: the model and the per-connection options."""

    model: str = "pool"
    pool_size: int | None = None
    workers: int | None = None
    max_connections: int | None = None
    idle_timeout: float | None = None
    drain_timeout: float = 30.0
    ssl_context: ssl.SSLContext | None = None
    proxy_protocol: ProxyProtocol | None = None
    access: NetworkAccess | None = None
    http: bool = False
    attributes: dict[str, object] = field(default_factory=dict)


Server = BaseServer[object, object] | Prefork[object, object]


def build(listen: Listen, handler: Handler, settings: Settings) -> Server:
    """A bound server for ``listen`` running ``handler`` on the model.

    Raises:
        UsageError: The handler does not take this kind of request, the
            model is not available, or the address cannot be listened on.
    """
    sock = _adopted_socket(listen)
    base = _base_class(listen, sock, settings.http)
    _check_handler_fits(handler, base, listen)
    # Any socket server: the command composes its class at run time.
    composed = type("Server", (*_mixins(settings, handler), base), _attributes(settings))
    cls = cast("type[TCPServer]", composed)
    factory = handler.factory
    try:
        if listen.kind == "systemd":
            server = cls.from_systemd(factory, _systemd_name(listen))  # type: ignore[arg-type]
        elif sock is not None:
            server = cls.from_socket(sock, factory)  # type: ignore[arg-type]
        else:
            server = cls(listen.address, factory)  # type: ignore[arg-type]
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot listen on {_where(listen)}: {exc}") from None
    built = cast("BaseServer[object, object]", server)
    if settings.model == "prefork":
        return Prefork(built, settings.workers, drain_timeout=settings.drain_timeout)
    return built


def _adopted_socket(listen: Listen) -> socket.socket | None:
    if listen.kind == "fd":
        try:
            return socket.socket(fileno=cast(int, listen.address))
        except OSError as exc:
            raise UsageError(f"--fd {listen.address}: not an open socket ({exc})") from None
    if listen.kind == "systemd":  # looked at, not taken: from_systemd takes it
        return activated_sockets()[_systemd_name(listen)][0]
    return None


def _systemd_name(listen: Listen) -> str:
    name = cast("str | None", listen.address)
    available = activated_sockets()
    if not available:
        raise UsageError("--systemd: this process was not socket-activated (no LISTEN_FDS)")
    if name is None and len(available) == 1:
        return next(iter(available))
    if name not in available:
        raise UsageError(f"--systemd {name or ''}: pick one of the sockets {sorted(available)}")
    return name


def _base_class(listen: Listen, sock: socket.socket | None, http: bool) -> type:
    unix = socket.AF_UNIX if listen.kind == "unix" else None
    family = sock.family if sock is not None else unix
    datagram = sock.type == socket.SOCK_DGRAM if sock is not None else listen.is_datagram
    if family == socket.AF_UNIX:
        if http:
            raise UsageError("--http serves TCP only (http.server's handlers want an IP peer)")
        return UnixDatagramServer if datagram else UnixStreamServer
    if datagram:
        if http:
            raise UsageError("--http serves TCP only")
        return UDPServer
    return HTTPServer if http else TCPServer


def _check_handler_fits(handler: Handler, base: type, listen: Listen) -> None:
    datagram = base in (UDPServer, UnixDatagramServer)
    if datagram and not handler.takes_datagrams:
        raise UsageError(f"{handler.name} handles connections; {_where(listen)} gets datagrams")
    if not datagram and not handler.takes_streams:
        raise UsageError(f"{handler.name} handles datagrams; {_where(listen)} gets connections")


def _mixins(settings: Settings, handler: Handler) -> tuple[type, ...]:
    model = settings.model
    if handler.is_async and model != "trio":
        raise UsageError(f"{handler.name} is an async handler: run it with --model trio")
    if model == "trio":
        try:
            from sockserve.trio_backend import TrioMixIn
        except ImportError:
            raise UsageError(
                "--model trio needs the trio backend: pip install 'sockserve[trio]'"
            ) from None
        return (TrioMixIn,)
    inner = {"sync": (), "threads": (ThreadingMixIn,), "fork": (ForkingMixIn,)}
    return inner.get(model, (ThreadPoolMixIn,))  # pool, and prefork's workers


def _attributes(settings: Settings) -> dict[str, object]:
    attributes: dict[str, object] = {
        "daemon_threads": True,
        "quiet_disconnects": True,
        "max_connections": settings.max_connections,
        "idle_timeout": settings.idle_timeout,
        "ssl_context": settings.ssl_context,
        "proxy_protocol": settings.proxy_protocol,
        "access": settings.access,
    }
    if settings.pool_size is not None:
        attributes["pool_size"] = settings.pool_size
    attributes.update(settings.attributes)
    return attributes


def _where(listen: Listen) -> str:
    if listen.kind in ("tcp", "udp"):
        host, port = cast("tuple[str, int]", listen.address)
        return f"{listen.kind} {host_and_port(host, port)}"
    if listen.kind == "systemd":
        return f"systemd socket {listen.address or '(the only one)'}"
    return f"{listen.kind} {listen.address}"
