"""The file a Unix socket is bound to: replacing a stale one, removing our own.

Only ever deletes a socket file that is provably not in use: one nobody is
bound to (before binding), or the very file this process's server created
(at close).
"""

from __future__ import annotations

import collections
import errno
import os
import socket as _socket
import stat

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without loading typing (see sockserve.core._types)
if TYPE_CHECKING:
    from typing import NamedTuple

    class _Identity(NamedTuple):
        path: str | bytes
        device: int
        inode: int
        pid: int

else:
    _Identity = collections.namedtuple("_Identity", "path device inode pid")

__all__ = ["SocketFile", "remove_stale_socket_file", "takeover_lock"]

# What a probe connect() gives when a socket is bound to the file: success
# for a datagram socket, EPROTOTYPE for a stream or seqpacket one (bound or
# listening), EAGAIN for a listener whose backlog is full.
_LIVE_ERRNOS = frozenset({0, errno.EPROTOTYPE, errno.EAGAIN, errno.EWOULDBLOCK})


class SocketFile(_Identity):
    """The identity of a socket file a server created, to remove it safely.

    Attributes:
        path: The file's absolute path (cleanup must not depend on the
            current directory at close time).
        device: ``st_dev`` of the file right after bind.
        inode: ``st_ino`` of the file right after bind.
        pid: The process that bound it; a forked child shares the socket but
            must not remove the file its parent still serves on.
    """

    __slots__ = ()

    @classmethod
    def created_at(cls, path: str | bytes) -> SocketFile:
        """Record the socket file that bind() has just created at ``path``.

        Raises:
            OSError: The path is no longer a socket (something replaced it
                right after bind), or cannot be examined.
        """
        info = os.lstat(path)
        if not stat.S_ISSOCK(info.st_mode):
            raise _in_use(path, "it was replaced right after bind")
        return cls(os.path.abspath(path), info.st_dev, info.st_ino, os.getpid())

    def remove(self) -> None:
        """Unlink the file if it still is this socket file; never raises.

        Call it while the socket is still open: a bound socket keeps its
        file's inode allocated, so no other file can have the same identity.
        """
        if os.getpid() != self.pid:
            return
        info = _lstat(self.path)
        # The same inode is still our socket file; any other file is not ours.
        if info is None or (info.st_dev, info.st_ino) != (self.device, self.inode):
            return
        # Best effort: a file left behind is stale, and the next bind replaces it.
        # (No contextlib: every module loaded is memory a forked child copies.)
        try:  # noqa: SIM105
            os.unlink(self.path)
        except OSError:
            pass


def remove_stale_socket_file(path: str | bytes) -> None:
    """Remove ``path`` if it is a socket file that nobody is bound to.

    Called after bind() failed with EADDRINUSE; the caller then binds again.
    Blocks only for a few filesystem calls and one non-blocking connect().

    The file is unlinked only if it is still the inode that was probed. No
    system call unlinks "only if still this inode", so callers hold
    `takeover_lock`: another sockserve server taking over the same stale file
    at the same moment then waits, and finds the file live.

    Raises:
        OSError: EADDRINUSE, naming the path, if it is not a socket, if a
            socket is (or may be) bound to it, or if it changed while being
            checked; or the error of the unlink itself (e.g. EACCES).
    """
    before = _lstat(path)
    if before is None:
        return  # gone meanwhile: just bind again
    if not stat.S_ISSOCK(before.st_mode):
        raise _in_use(path, "it exists and is not a socket")
    _raise_unless_stale(path)
    after = _lstat(path)
    if after is None:
        return
    if (after.st_dev, after.st_ino) != (before.st_dev, before.st_ino):
        raise _in_use(path, "it was replaced while being checked")
    try:  # noqa: SIM105
        os.unlink(path)
    except FileNotFoundError:  # gone meanwhile: just bind again
        pass


class takeover_lock:  # noqa: N801  # used as a function: ``with takeover_lock(path):``
    """Hold an exclusive lock on the directory of ``path`` while inside (blocks until free).

    ``flock()`` on the directory itself: no lock file is left behind, and
    every sockserve server, in any process or thread, takes the same lock
    for the same directory. Held for a bind and a few checks only.
    """

    def __init__(self, path: str | bytes) -> None:
        self._directory = os.path.dirname(os.path.abspath(path)) or os.curdir
        self._fd = -1

    def __enter__(self) -> None:
        self._fd = os.open(self._directory, os.O_RDONLY)
        try:
            import fcntl  # only now: most servers never take over a stale file

            fcntl.flock(self._fd, fcntl.LOCK_EX)
        except BaseException:
            self.__exit__()
            raise

    def __exit__(self, *exc_info: object) -> None:
        os.close(self._fd)  # closing releases the lock
        self._fd = -1


def _raise_unless_stale(path: str | bytes) -> None:
    """Raise EADDRINUSE unless connecting to ``path`` is refused.

    A datagram probe is refused (ECONNREFUSED) only when no socket of any
    type is bound to the file; a stream probe would also be refused by a
    stream socket that is bound but not yet listening, which is not stale.
    """
    with _socket.socket(_socket.AF_UNIX, _socket.SOCK_DGRAM) as probe:
        probe.setblocking(False)  # never wait on whoever may be there
        error = probe.connect_ex(path)
    if error == errno.ECONNREFUSED:
        return
    if error in _LIVE_ERRNOS:
        raise _in_use(path, "a live socket is bound to it")
    raise _in_use(path, f"cannot tell whether it is stale: connect() failed: {os.strerror(error)}")


def _lstat(path: str | bytes) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None


def _in_use(path: str | bytes, reason: str) -> OSError:
    return OSError(errno.EADDRINUSE, f"{os.strerror(errno.EADDRINUSE)} ({reason})", path)
