"""The handler to run: ``MODULE:HandlerClass`` loaded, and what kind of requests it takes."""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass

from ._errors import UsageError

__all__ = ["Handler", "load"]

# Told apart by name, not by class: a handler written for the stdlib's
# socketserver derives from its classes, and works here all the same.
_STREAM = {"StreamRequestHandler", "AsyncStreamRequestHandler"}
_DATAGRAM = {"DatagramRequestHandler", "AsyncDatagramRequestHandler"}
_ANY = {"BaseRequestHandler", "AsyncBaseRequestHandler"}
_ASYNC = {"AsyncBaseRequestHandler"}


@dataclass(frozen=True)
class Handler:
    """A request handler class and what it serves.

    Attributes:
        factory: What the server calls per request (the class, or a partial
            of one); typed loosely, as the servers are built at run time.
        name: How to name it in messages.
        takes_streams: It handles connections.
        takes_datagrams: It handles datagrams.
        is_async: It is an async handler (the trio backend runs it).
    """

    factory: object
    name: str
    takes_streams: bool
    takes_datagrams: bool
    is_async: bool


def load(spec: str) -> Handler:
    """The handler class ``spec`` names (``package.module:Class``), imported from here.

    Raises:
        UsageError: The spec is malformed, the module or the class is
            missing, or the class is no request handler.
    """
    module_name, colon, class_name = spec.partition(":")
    if not colon or not module_name or not class_name.isidentifier():
        raise UsageError(f"want MODULE:HandlerClass, got {spec!r}")
    if os.getcwd() not in sys.path:  # as python -m does: the user's own modules
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise UsageError(f"cannot import {module_name!r}: {exc}") from None
    cls = getattr(module, class_name, None)
    if cls is None:
        raise UsageError(f"module {module_name!r} has no {class_name!r}")
    return of_class(cls, spec)


def of_class(cls: object, name: str) -> Handler:
    """Describe handler class ``cls``.

    Raises:
        UsageError: ``cls`` is not a request handler class.
    """
    bases = {base.__name__ for base in getattr(cls, "__mro__", ())}
    if not isinstance(cls, type) or not bases & (_STREAM | _DATAGRAM | _ANY):
        raise UsageError(
            f"{name} is not a request handler class (a subclass of BaseRequestHandler, "
            "StreamRequestHandler, DatagramRequestHandler or their async twins)"
        )
    stream, datagram = bool(bases & _STREAM), bool(bases & _DATAGRAM)
    both = not stream and not datagram
    return Handler(cls, name, stream or both, datagram or both, bool(bases & _ASYNC))
