"""Access control for Unix sockets by the peer process's credentials (``SO_PEERCRED``)."""

from __future__ import annotations

import socket as _socket
import struct
from collections.abc import Iterable

__all__ = ["PeerAccess", "peer_credentials"]

# struct ucred: pid_t pid (signed), uid_t uid and gid_t gid (unsigned).
_UCRED = struct.Struct("iII")


def peer_credentials(sock: _socket.socket) -> tuple[int, int, int]:
    """The ``(pid, uid, gid)`` of the process at the other end of a Unix stream socket.

    Raises:
        OSError: The platform has no ``SO_PEERCRED`` (Linux has it).
    """
    option = getattr(_socket, "SO_PEERCRED", None)
    if option is None:
        raise OSError("SO_PEERCRED is not available on this platform")
    pid, uid, gid = _UCRED.unpack(sock.getsockopt(_socket.SOL_SOCKET, option, _UCRED.size))
    return pid, uid, gid


class PeerAccess:
    """Let in Unix clients by user or group: ``server.access = PeerAccess(uids=[os.getuid()])``.

    A peer whose uid is in ``uids`` or whose (primary) gid is in ``gids`` is
    let in; every other one is refused (closed at once, logged, counted).
    The credentials are the kernel's (``SO_PEERCRED``), so they cannot be
    forged by the client. Stream servers only.

    Args:
        uids: The user ids let in.
        gids: The group ids let in.

    Raises:
        TypeError: An id is not an int.
        ValueError: Neither ``uids`` nor ``gids`` names anyone.
    """

    def __init__(self, uids: Iterable[int] = (), gids: Iterable[int] = ()) -> None:
        self.uids: frozenset[int] = _ids(uids, "uids")
        self.gids: frozenset[int] = _ids(gids, "gids")
        if not self.uids and not self.gids:
            raise ValueError("PeerAccess lets nobody in: give uids or gids")

    def __call__(self, request: object, client_address: object) -> str | None:
        """Why the peer on ``request`` is refused, or None if it is let in."""
        if not isinstance(request, _socket.socket):
            return "peer credentials exist only for stream connections"
        try:
            _pid, uid, gid = peer_credentials(request)
        except OSError as exc:
            return f"its credentials cannot be read: {exc}"
        if uid in self.uids or gid in self.gids:
            return None
        return f"uid {uid} and gid {gid} are not allowed"

    def __repr__(self) -> str:
        return f"PeerAccess(uids={sorted(self.uids)}, gids={sorted(self.gids)})"


def _ids(ids: Iterable[int], name: str) -> frozenset[int]:
    values = frozenset(ids)
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be ints, got {value!r}")
    return values
