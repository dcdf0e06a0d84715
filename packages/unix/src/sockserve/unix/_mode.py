"""Giving a socket file the permissions asked for, never more open than that.

Linux's bind() creates the file with the socket's own mode minus the umask.
So the mode is set on the socket (fchmod) before bind(), and the file starts
at ``mode & ~umask``, never more open than asked; a chmod() after bind() then
only adds the bits the umask took away. No other process ever sees a wider
mode. Elsewhere (the BSDs and macOS create it from 0o777 minus the umask, and
refuse fchmod on a socket) a mode cannot be had without such a window, so
`socket_mode` is refused there rather than applied late.
"""

from __future__ import annotations

import errno
import os
import socket as _socket
import stat
import sys

__all__ = ["checked_mode", "restrict_before_bind", "widen_after_bind"]

_MAX_MODE = 0o777
# Where bind() creates the socket file from the mode fchmod() gave the socket.
_BIND_USES_SOCKET_MODE = sys.platform.startswith("linux")


def checked_mode(mode: object, path: str | bytes | None) -> int | None:
    """Return ``socket_mode`` if it is usable for a socket file at ``path``.

    Raises:
        ValueError: ``mode`` is neither None nor an int from 0 to 0o777, or a
            mode was asked for an abstract address, which has no file and so
            no permissions (anyone may connect to it).
    """
    if mode is None:
        return None
    if isinstance(mode, bool) or not isinstance(mode, int) or not 0 <= mode <= _MAX_MODE:
        raise ValueError(f"socket_mode must be None or an int from 0 to 0o777, got {mode!r}")
    if path is None:
        raise ValueError(
            f"socket_mode {mode:#o} cannot apply to an abstract Unix socket address: "
            "it has no file, and no permissions"
        )
    return mode


def restrict_before_bind(sock: _socket.socket, mode: int, path: str | bytes) -> None:
    """Make the file that binding ``sock`` will create start at ``mode & ~umask``.

    Raises:
        OSError: EOPNOTSUPP off Linux, or fchmod()'s error: the mode could
            then only be set once the file exists, after a moment wider than
            asked, so nothing must be bound.
    """
    if not _BIND_USES_SOCKET_MODE:
        raise OSError(
            errno.EOPNOTSUPP,
            f"socket_mode is not supported on {sys.platform}: bind() there does not "
            "create the socket file with the socket's mode",
            path,
        )
    try:
        os.fchmod(sock.fileno(), mode)
    except OSError as exc:
        raise OSError(
            exc.errno,
            f"cannot create the socket file with socket_mode {mode:#o}: "
            f"fchmod() on a socket failed on this platform ({exc.strerror})",
            path,
        ) from exc


def widen_after_bind(path: str | bytes, mode: int) -> None:
    """Give the socket file just created at ``path`` exactly ``mode``.

    Never follows a symbolic link: one swapped in at ``path`` by whoever can
    write to its directory must not redirect the chmod to another file.

    Raises:
        OSError: The chmod failed, or (EOPNOTSUPP) the path is now a symbolic
            link or this platform cannot chmod without following one.
    """
    if stat.S_IMODE(os.lstat(path).st_mode) == mode:
        return  # the umask took nothing away; also spares the chmod below
    try:
        os.chmod(path, mode, follow_symlinks=False)
    except NotImplementedError as exc:
        raise OSError(
            errno.EOPNOTSUPP,
            f"cannot set socket_mode {mode:#o} without following a symbolic link",
            path,
        ) from exc
