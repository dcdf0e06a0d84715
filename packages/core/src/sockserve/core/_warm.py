"""Warming, in a process about to fork once per request, what each child would warm again.

The first time a process reads and writes a connection through its files,
CPython fills its method cache and the dynamic linker binds the C functions
involved. A forking server's parent never handles a request itself, so each
child used to do that work again, and to copy every page it wrote for it
(measured on CPython 3.11: 12 to 20 page faults per child). Done
once in the parent, before the first fork, every child inherits it done.

The same holds for every attribute a child looks up on a class: the
handler's and the server's, and those of threading's after-fork hook. A
lookup the parent never made is a miss in CPython's type attribute cache,
and each miss writes a cache entry and two names' reference counts, on
pages the child then copies (measured on 3.11: 26 page faults per child).
"""

from __future__ import annotations

import collections
import io
import socket as _socket
import sys
import threading

from ._serve_request import WorkerState
from ._socket_writer import SocketWriter

__all__ = ["warm_fork_lookups", "warm_stream_io", "warm_type_lookups"]

# What a request handler reads and sets on itself (BaseRequestHandler and the
# stream and datagram handlers), as every forked child does.
_HANDLER_NAMES = (
    "__init__",
    "request",
    "client_address",
    "server",
    "setup",
    "handle",
    "finish",
    "connection",
    "timeout",
    "disable_nagle_algorithm",
    "rbufsize",
    "wbufsize",
    "rfile",
    "wfile",
    "packet",
    "socket",
)
# What serving a request reads on the server, in a child (serve_request, the
# admission test, finish_request, shutdown_request and close_request).
_SERVER_NAMES = (
    "proxy_protocol",
    "access",
    "ssl_context",
    "idle_timeout",
    "finish_request",
    "RequestHandlerClass",
    "shutdown_request",
    "close_request",
    "handle_error",
    "quiet_disconnects",
)
# What a connection's files read and set on themselves (the raw reader, the writer).
_FILE_NAMES = (
    "__init__",
    "_sock",
    "_mode",
    "_reading",
    "_writing",
    "_timeout_occurred",
    "closed",
    "close",
    "flush",
    "write",
)
# What a handler calls on its connection or, for datagrams, the server's socket.
_SOCKET_NAMES = (
    "makefile",
    "settimeout",
    "setsockopt",
    "sendall",
    "sendto",
    "recv",
    "recv_into",
    "shutdown",
    "close",
    "_decref_socketios",
)
# What a datagram handler's in-memory files are read and written with.
_MEMORY_FILE_NAMES = ("read", "readline", "write", "getvalue")
# What threading's after-fork hook looks up (CPython 3.11 to 3.13): on each
# thread, its Event, the Event's Condition, their locks, and the containers
# of the threading module. A name a version does not use is one cache entry.
_THREAD_NAMES = (
    "_reset_internal_locks",
    "_started",
    "_tstate_lock",
    "_ident",
    "_stop",
    "_is_stopped",
    "_initialized",
    "_daemonic",
    "daemon",
    "_handle",
)
_AT_FORK_NAMES = ("_at_fork_reinit", "_cond", "_lock", "_waiters", "_flag", "acquire", "locked")
_CONTAINER_NAMES = ("clear", "update", "values", "remove", "add", "discard", "copy")
_WEAKSET_NAMES = ("__iter__", "__len__", "_iterating", "_commit_removals", "_pending_removals")
_GUARD_NAMES = ("__init__", "__enter__", "__exit__", "weakcontainer")
# The threads running, those starting, and the Thread objects still referenced.
_THREADING_CONTAINERS = ("_active", "_limbo", "_dangling")

# Two rounds: the first binds and caches, the second runs what the first
# changed (a file's first close, say) the way every later one will.
_ROUNDS = 2


def warm_stream_io(rbufsize: int = -1, wbufsize: int = 0) -> None:
    """Read a line and write it back over a socket pair, as a stream handler's files do.

    Uses ``rbufsize`` and ``wbufsize`` as `StreamRequestHandler` does (a
    ``wbufsize`` of 0 writes through `SocketWriter`). Blocks for a few
    hundred microseconds; opens and closes its own two sockets. Best effort:
    a process out of descriptors skips it, and it never raises.
    """
    try:
        for _ in range(_ROUNDS):
            _echo_a_line(rbufsize, wbufsize)
    except OSError:  # no descriptors to spare, say: the children just start cold
        pass


def _echo_a_line(rbufsize: int, wbufsize: int) -> None:
    ours, theirs = _socket.socketpair()
    with ours, theirs:
        theirs.sendall(b"\n")
        reader = ours.makefile("rb", rbufsize)
        writer = SocketWriter(ours) if wbufsize == 0 else ours.makefile("wb", wbufsize)
        try:
            writer.write(reader.readline())
            writer.flush()
        finally:
            writer.close()
            reader.close()
        ours.shutdown(_socket.SHUT_WR)
        theirs.recv(1)


def warm_type_lookups(cls: type, names: tuple[str, ...]) -> None:
    """Look each of ``names`` up on ``cls`` once, so that CPython caches the result.

    Never runs code of the application's: a name that is, on ``cls`` or on
    its metaclass, a descriptor of a type not built into Python is skipped,
    and so is every name of a class whose metaclass defines ``__getattr__``
    or its own ``__getattribute__``. Names ``cls`` lacks are looked up too
    (a failed lookup is cached as well). Never raises.
    """
    metaclass = type(cls)
    if metaclass.__getattribute__ is not type.__getattribute__ or hasattr(metaclass, "__getattr__"):
        return
    for name in names:
        if _runs_code(_class_attribute(metaclass, name)) or _runs_code(_class_attribute(cls, name)):
            continue
        try:  # noqa: SIM105  # no contextlib: a forked child copies every module loaded
            # Interned: CPython's cache compares names by identity.
            getattr(cls, sys.intern(name))
        except Exception:  # a builtin descriptor may refuse a class
            pass


def _runs_code(attribute: object) -> bool:
    """Whether reading ``attribute`` through a class may call the application's code."""
    return hasattr(attribute, "__get__") and type(attribute).__module__ != "builtins"


def _class_attribute(cls: type, name: str) -> object:
    """What ``name`` is on ``cls`` (None if nothing), read from the classes' dictionaries."""
    for klass in cls.__mro__:
        if name in klass.__dict__:
            return klass.__dict__[name]
    return None


def warm_fork_lookups(server: object) -> None:
    """Warm, for a server about to fork per request, every class lookup its children repeat.

    The handler class's and the server class's attributes that serving a
    request reads or sets, a connection's and its files', and those of
    threading's after-fork hook (on the process's threads as they are now). Takes tens
    of microseconds; never raises.
    """
    handler = getattr(server, "RequestHandlerClass", None)
    if isinstance(handler, type):
        warm_type_lookups(handler, _HANDLER_NAMES)
    warm_type_lookups(type(server), _SERVER_NAMES)
    warm_type_lookups(WorkerState, ("ticket", "server"))
    for cls in (_socket.SocketIO, SocketWriter, *_socket.SocketIO.__bases__):
        warm_type_lookups(cls, _FILE_NAMES)
    warm_type_lookups(_socket.socket, _SOCKET_NAMES)
    warm_type_lookups(io.BytesIO, _MEMORY_FILE_NAMES)
    _warm_after_fork_lookups()


def _warm_after_fork_lookups() -> None:
    # The module's own containers: private names, so each is looked for, not assumed.
    active, limbo, dangling = (getattr(threading, name, None) for name in _THREADING_CONTAINERS)
    threads = [t for found in (active, limbo) if isinstance(found, dict) for t in found.values()]
    for cls in {type(thread) for thread in threads} | {threading.Thread}:
        warm_type_lookups(cls, _THREAD_NAMES)
    locks = (type(threading.Lock()), type(threading.RLock()))
    for cls in (threading.Event, threading.Condition, *locks):
        warm_type_lookups(cls, _AT_FORK_NAMES)
    for cls in (dict, set, collections.deque):  # a Condition's waiters are a deque
        warm_type_lookups(cls, _CONTAINER_NAMES)
    if dangling is not None:
        weakset = type(dangling)
        warm_type_lookups(weakset, _WEAKSET_NAMES)
        guard = getattr(sys.modules.get(weakset.__module__), "_IterationGuard", None)
        if isinstance(guard, type):
            warm_type_lookups(guard, _GUARD_NAMES)
