"""Serving on sockets made elsewhere: passed in, inherited by descriptor, or from systemd.

systemd's socket activation (``sd_listen_fds(3)``) passes listening sockets
as descriptors 3, 4, … with ``LISTEN_PID`` (the process they are for),
``LISTEN_FDS`` (how many) and ``LISTEN_FDNAMES`` (their names, from the
unit's ``FileDescriptorName=``, colon-separated).
"""

from __future__ import annotations

import os
import socket as _socket
import stat
import threading
from collections.abc import Mapping

__all__ = [
    "activated_sockets",
    "check_adoptable",
    "listen_plan",
    "require_fd",
    "require_socket",
    "return_activated_socket",
    "take_activated_socket",
]

#: The first descriptor systemd passes.
LISTEN_FDS_START = 3

_lock = threading.Lock()
# Taken from the environment once (which is then cleared): name -> sockets not yet adopted.
_activated: dict[str, list[_socket.socket]] | None = None


def require_socket(sock: object, server: str) -> _socket.socket:
    """``sock``, if it is a socket.

    Raises:
        TypeError: It is not.
    """
    if not isinstance(sock, _socket.socket):
        raise TypeError(f"{server} adopts a socket.socket, got {sock!r}")
    return sock


def require_fd(fd: object) -> int:
    """``fd``, if it is a descriptor number.

    Raises:
        TypeError: It is not an int.
    """
    if not isinstance(fd, int) or isinstance(fd, bool):
        raise TypeError(f"fd must be a descriptor number, got {fd!r}")
    return fd


def check_adoptable(sock: _socket.socket, family: int, socket_type: int, server: str) -> None:
    """Check that ``sock`` suits a server of ``family`` and ``socket_type``, and is bound.

    Raises:
        ValueError: Its family or type is not the server's, or it is not bound.
    """
    if sock.family != family or sock.type != socket_type:
        raise ValueError(
            f"{server} serves {_socket.AddressFamily(family).name} "
            f"{_socket.SocketKind(socket_type).name} sockets, not this "
            f"{_name(sock.family, _socket.AddressFamily)} "
            f"{_name(sock.type, _socket.SocketKind)} one"
        )
    if not _is_bound(sock):
        raise ValueError(f"{server} adopts bound sockets; this one is not bound: {sock!r}")


def _name(value: int, enum: type[_socket.AddressFamily] | type[_socket.SocketKind]) -> str:
    try:
        return enum(value).name
    except ValueError:
        return str(value)


def _is_bound(sock: _socket.socket) -> bool:
    address = sock.getsockname()
    if isinstance(address, tuple):
        return bool(address[1])  # an IP socket is bound once it has a port
    return bool(address)  # a Unix socket has a path (or an abstract name)


def activated_sockets() -> dict[str, list[_socket.socket]]:
    """The sockets systemd passed this process and no server has adopted yet, by name.

    Read from the environment on the first call, which then removes
    ``LISTEN_PID``, ``LISTEN_FDS`` and ``LISTEN_FDNAMES`` (so that child
    processes do not take them too) and marks the descriptors close-on-exec.
    Sockets systemd did not name are under ``"unknown"``, as systemd has it.
    Empty when the process was not socket-activated.

    Raises:
        ValueError: The variables are there but malformed.
    """
    global _activated
    with _lock:
        if _activated is None:
            _activated = _read_environment()
        return {name: list(socks) for name, socks in _activated.items() if socks}


def take_activated_socket(name: str | None) -> tuple[str, _socket.socket]:
    """Remove the activated socket called ``name`` (None: the only one); return its name and it.

    Raises:
        RuntimeError: The process was not socket-activated.
        ValueError: No socket has that name, or ``name`` is None and there
            are several.
    """
    global _activated
    with _lock:  # one hold: two servers adopting at once must not take the same socket
        if _activated is None:
            _activated = _read_environment()
        available = {label: socks for label, socks in _activated.items() if socks}
        if not available:
            raise RuntimeError(
                "no sockets from systemd: LISTEN_PID and LISTEN_FDS are not set for this process"
            )
        if name is None:
            names = sorted(available)
            if sum(len(socks) for socks in available.values()) > 1:
                raise ValueError(f"systemd passed several sockets; pick one by name: {names}")
            name = names[0]
        if name not in available:
            passed = sorted(available)
            raise ValueError(f"systemd passed no socket named {name!r}; it passed {passed}")
        return name, available[name].pop(0)


def return_activated_socket(name: str, sock: _socket.socket) -> None:
    """Put back a socket `take_activated_socket` gave, that could not be adopted."""
    with _lock:
        assert _activated is not None
        _activated.setdefault(name, []).insert(0, sock)


def _read_environment() -> dict[str, list[_socket.socket]]:
    """The sockets systemd passed, by name; clears the variables once they are read.

    Descriptors that are not sockets (systemd's file-descriptor store, FIFOs)
    are left alone: not ours to serve on.

    Raises:
        ValueError: The variables are malformed (they are then left as they are).
    """
    plan = listen_plan(os.environ, os.getpid())
    for variable in ("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"):
        os.environ.pop(variable, None)
    if plan is None:
        return {}
    sockets: dict[str, list[_socket.socket]] = {}
    for index, label in enumerate(plan):
        fd = LISTEN_FDS_START + index
        try:
            if not stat.S_ISSOCK(os.fstat(fd).st_mode):
                continue
        except OSError:  # not open after all
            continue
        os.set_inheritable(fd, False)
        sockets.setdefault(label, []).append(_socket.socket(fileno=fd))
    return sockets


def listen_plan(environ: Mapping[str, str], pid: int) -> list[str] | None:
    """The names of the descriptors systemd passed process ``pid`` (3, 4, ... in order).

    Read from ``LISTEN_PID``, ``LISTEN_FDS`` and ``LISTEN_FDNAMES``, as
    ``sd_listen_fds(3)`` does; a descriptor without a name is ``"unknown"``.
    None when the variables are not set, or are for another process.

    Raises:
        ValueError: ``LISTEN_PID`` or ``LISTEN_FDS`` is not a decimal number,
            or ``LISTEN_FDS`` is more descriptors than the process may have
            (the names are not checked: any text is a name).
    """
    pid_text, count_text = environ.get("LISTEN_PID"), environ.get("LISTEN_FDS")
    if pid_text is None or count_text is None:
        return None
    if not (_is_decimal(pid_text) and _is_decimal(count_text)):
        raise ValueError(f"malformed LISTEN_PID={pid_text!r} or LISTEN_FDS={count_text!r}")
    count = int(count_text)
    if count > _most_descriptors():
        raise ValueError(
            f"LISTEN_FDS={count_text!r} is more descriptors than this process may have"
        )
    if int(pid_text) != pid:
        return None  # meant for another process (our parent, most likely)
    names = environ.get("LISTEN_FDNAMES")
    labels = names.split(":") if names else []
    return [labels[i] if i < len(labels) and labels[i] else "unknown" for i in range(count)]


def _is_decimal(text: str) -> bool:
    # ASCII digits only: str.isdigit() takes "²", which int() refuses.
    return 0 < len(text) <= 10 and text.isascii() and text.isdigit()


def _most_descriptors() -> int:
    limit = os.sysconf("SC_OPEN_MAX")
    return limit if limit > 0 else 1 << 20
