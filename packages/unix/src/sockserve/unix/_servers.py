"""`UnixStreamServer` and `UnixDatagramServer`: the stdlib's Unix servers over sockserve's core."""

from __future__ import annotations

import errno
import socket as _socket
from collections.abc import Callable

from sockserve.core import (
    AddressT,
    DatagramRequest,
    DatagramServer,
    RequestT,
    SocketServer,
    StreamRequest,
    StreamServer,
)

from ._address import UnixAddress, UnixDatagramAddress, socket_file_path
from ._mode import checked_mode, restrict_before_bind, widen_after_bind
from ._socket_file import SocketFile, remove_stale_socket_file, takeover_lock

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without loading typing (see sockserve.core._types)
if TYPE_CHECKING:
    from typing import Self

__all__ = ["UnixDatagramServer", "UnixStreamServer"]


class _UnixSocketServer(SocketServer[RequestT, AddressT]):
    """What both Unix servers add to a socket server: the life of the socket file.

    See `UnixStreamServer` for what that is, and for `socket_mode`.
    """

    address_family: int = _socket.AF_UNIX
    socket_mode: int | None = None
    # Set by server_bind once a socket file exists; None: nothing to remove.
    _socket_file: SocketFile | None = None

    def server_bind(self) -> None:
        """Bind to `server_address`, replacing a stale socket file there.

        Before any socket call, checks the address and `socket_mode`. A
        socket file nobody is bound to is removed and bound over; anything
        else at the path is left alone. After this, `server_address` is
        ``socket.getsockname()``.

        Raises:
            UnixPathTooLongError: The address does not fit (also a ValueError).
            ValueError: A bad `socket_mode`, or a path with a NUL byte.
            OSError: EADDRINUSE, naming the path, when a live socket or a
                file that is not a socket is there; or bind()'s own error.
        """
        path = socket_file_path(self.server_address)  # type: ignore[arg-type]  # AddressT is a UnixAddress
        mode = checked_mode(self.socket_mode, path)
        if path is None:
            super().server_bind()
            return
        if mode is not None:
            restrict_before_bind(self.socket, mode, path)
        self._bind_replacing_stale(path)
        self._socket_file = SocketFile.created_at(path)
        if mode is not None:
            widen_after_bind(path, mode)

    def _bind_replacing_stale(self, path: str | bytes) -> None:
        if self._bound(path):
            return
        # Servers starting at once on one stale file take turns: only one may
        # remove it, or another's fresh file could be deleted from under it.
        with takeover_lock(path):
            if not self._bound(path):  # still in use: was it freed, or is it stale?
                remove_stale_socket_file(path)
                super().server_bind()

    def _bound(self, path: str | bytes) -> bool:
        """Bind; False if the path is in use (EADDRINUSE), for the takeover to judge."""
        try:
            super().server_bind()
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            return False
        return True

    def server_close(self) -> None:
        """Remove the socket file this server created, then close the socket.

        The file is removed only if it still is the one bind() created (not
        one another server has since put there) and only by the process that
        bound it. A file that could not be removed stays, stale, and the
        next bind replaces it. Safe to call more than once.
        """
        socket_file, self._socket_file = self._socket_file, None
        if socket_file is not None:
            socket_file.remove()  # before close(): see SocketFile.remove
        super().server_close()


class UnixStreamServer(_UnixSocketServer[StreamRequest, UnixAddress], StreamServer[UnixAddress]):
    """A Unix-domain stream server that handles one connection at a time.

    ``UnixStreamServer(server_address, RequestHandlerClass,
    bind_and_activate=True)``, where ``server_address`` is a path or a Linux
    abstract name (a leading NUL). The stdlib's behaviour, plus:

    * `server_close` removes the socket file this server created;
    * binding over a stale socket file (its server died) replaces it, while a
      live server's socket or a file that is not a socket raises EADDRINUSE;
    * `socket_mode` sets the socket file's permissions race-free;
    * an address too long for the platform raises `UnixPathTooLongError`;
    * ``allow_reuse_port`` is ignored (Linux 6.12.9 and later reject it).

    Attributes:
        socket_mode: If not None (the default), the permission bits (0 to
            0o777) the socket file gets whatever the umask, without ever
            being more open, even for a moment. Linux only (elsewhere
            binding raises EOPNOTSUPP); not allowed with an abstract address.
    """

    # Declared, so that ``class S(ThreadingMixIn, UnixStreamServer)`` keeps it.
    server_address: UnixAddress


class UnixDatagramServer(
    _UnixSocketServer[DatagramRequest, UnixDatagramAddress],
    DatagramServer[UnixDatagramAddress],
):
    """A Unix-domain datagram server that handles one datagram at a time.

    ``UnixDatagramServer(server_address, RequestHandlerClass,
    bind_and_activate=True)``, with the improvements listed on
    `UnixStreamServer`, including `socket_mode`. Each request is ``(data,
    server_socket)``. A client that never bound its socket has the address
    ``None``: it can send, but cannot be replied to.
    """

    # The server's own address is never None; only its clients' may be.
    server_address: UnixAddress

    def __init__(
        self,
        server_address: UnixAddress,
        RequestHandlerClass: Callable[[DatagramRequest, UnixDatagramAddress, Self], object],
        bind_and_activate: bool = True,
    ) -> None:
        super().__init__(server_address, RequestHandlerClass, bind_and_activate)
