"""Unix socket addresses: their types, and which of them name a file."""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without loading typing (see sockserve.core._types)
if TYPE_CHECKING:
    from typing import TypeAlias

__all__ = ["UnixAddress", "UnixDatagramAddress", "UnixPathTooLongError", "socket_file_path"]

#: A Unix socket address: a filesystem path (``str``, or ``bytes``), or a
#: Linux abstract name (a leading NUL byte; ``getsockname()`` reports it as
#: ``bytes``). ``accept()`` reports an unbound stream client as ``''``.
UnixAddress: TypeAlias = str | bytes

#: The address of a Unix datagram client: a `UnixAddress`, or ``None`` when
#: the client never bound its socket (it then cannot be replied to).
UnixDatagramAddress: TypeAlias = str | bytes | None

# sizeof(sockaddr_un.sun_path), by sys.platform without its version digits.
# CPython needs room for a terminating NUL after a path, but not after an
# abstract name (Linux only): on Linux a path holds at most 107 bytes and an
# abstract name 108, counting its leading NUL (measured on Linux 6.18). On an
# unknown platform nothing is checked here and bind() reports the error.
_SUN_PATH_SIZES = {
    "linux": 108,
    "darwin": 104,
    "freebsd": 104,
    "openbsd": 104,
    "netbsd": 104,
}
_SUN_PATH_SIZE = _SUN_PATH_SIZES.get(sys.platform.rstrip("0123456789"))


class UnixPathTooLongError(ValueError, OSError):
    """Raised when a Unix socket address is longer than the platform allows.

    A `ValueError`, and also an `OSError` because the stdlib's servers raise
    ``OSError("AF_UNIX path too long")`` there: code that catches either works.
    """


def socket_file_path(address: UnixAddress) -> str | bytes | None:
    """Return the file that binding to ``address`` creates, or None if none.

    An abstract name (leading NUL) and the empty address (Linux binds it to
    a fresh abstract name) create no file. Touches neither the filesystem nor
    any socket.

    Raises:
        UnixPathTooLongError: The address does not fit in ``sun_path``.
        ValueError: A path holds a NUL byte, where bind() would cut it short.
        TypeError: The address is neither ``str`` nor bytes-like.
    """
    encoded = os.fsencode(address) if isinstance(address, str) else _bytes_of(address)
    if not encoded or encoded[0] == 0:
        _check_length(address, len(encoded), _SUN_PATH_SIZE, "abstract Unix socket name")
        return None
    if 0 in encoded:
        raise ValueError(f"Unix socket path {address!r} contains a NUL byte")
    limit = None if _SUN_PATH_SIZE is None else _SUN_PATH_SIZE - 1
    _check_length(address, len(encoded), limit, "Unix socket path")
    return address if isinstance(address, str) else encoded


def _bytes_of(address: object) -> bytes:
    try:
        return memoryview(address).tobytes()  # type: ignore[arg-type]  # checked here
    except TypeError:
        raise TypeError(
            f"a Unix socket address must be a str path or bytes, got {address!r}"
        ) from None


def _check_length(address: UnixAddress, length: int, limit: int | None, what: str) -> None:
    if limit is not None and length > limit:
        raise UnixPathTooLongError(
            f"{what} {address!r} is {length} bytes long; this platform allows at most {limit}"
        )
