# The drop-in as type checkers see it: typeshed's types for the stdlib's API.
#
# At run time the drop-in's names are sockserve's own classes (`_classes.py`).
# Here each is declared as typeshed declares the stdlib's, on sockserve's
# core classes parametrised by Any: a handler's request and client address
# are Any, the hooks take any request and address, and addresses have
# typeshed's types. So a program that type-checks against the stdlib
# type-checks unchanged against the drop-in, and sees the same types.
# sockserve's additions (request_counts(), drain(), request_shutdown(),
# from_systemd(), dual_stack, ...) are there too. A server here is a
# sockserve.core.BaseServer, not a sockserve.inet.TCPServer: those precise
# types would reject typeshed's looser hooks in a subclass.

import sys
from _socket import _Address, _RetAddress
from collections.abc import Callable
from io import BufferedIOBase
from socket import socket as _socket
from typing import Any, ClassVar, Self, TypeAlias

from _typeshed import ReadableBuffer

import sockserve.core as _core
import sockserve.mixins as _mixins

_RequestType: TypeAlias = _socket | tuple[bytes, _socket]
_AfUnixAddress: TypeAlias = str | ReadableBuffer
_AfInetAddress: TypeAlias = tuple[str | bytes | bytearray, int]
_AfInet6Address: TypeAlias = tuple[str | bytes | bytearray, int, int, int]

class BaseServer(_core.BaseServer[Any, Any]):
    server_address: _Address
    timeout: float | None
    RequestHandlerClass: Callable[[Any, _RetAddress, Self], BaseRequestHandler]
    def __init__(
        self,
        server_address: _Address,
        RequestHandlerClass: Callable[[Any, _RetAddress, Self], BaseRequestHandler],
    ) -> None: ...
    def handle_request(self) -> None: ...
    def shutdown(self) -> None: ...
    def server_close(self) -> None: ...
    def finish_request(self, request: _RequestType, client_address: _RetAddress) -> None: ...
    def get_request(self) -> tuple[Any, Any]: ...
    def handle_error(self, request: _RequestType, client_address: _RetAddress) -> None: ...
    def handle_timeout(self) -> None: ...
    def process_request(self, request: _RequestType, client_address: _RetAddress) -> None: ...
    def server_activate(self) -> None: ...
    def verify_request(self, request: _RequestType, client_address: _RetAddress) -> bool: ...
    def __enter__(self) -> Self: ...
    def service_actions(self) -> None: ...
    def shutdown_request(self, request: _RequestType) -> None: ...
    def close_request(self, request: _RequestType) -> None: ...

# What each family's server shares: sockserve's stream or datagram server,
# with the hooks typed as typeshed types them.
class _StreamServer(_core.StreamServer[Any], BaseServer):
    def shutdown_request(self, request: _RequestType) -> None: ...
    def close_request(self, request: _RequestType) -> None: ...

class _DatagramServer(_core.DatagramServer[Any], BaseServer):
    def shutdown_request(self, request: _RequestType) -> None: ...
    def close_request(self, request: _RequestType) -> None: ...

class TCPServer(_StreamServer):
    dual_stack: bool | None
    tcp_nodelay: bool
    server_address: _AfInetAddress | _AfInet6Address
    def __init__(
        self,
        server_address: _AfInetAddress | _AfInet6Address,
        RequestHandlerClass: Callable[[Any, _RetAddress, Self], BaseRequestHandler],
        bind_and_activate: bool = True,
    ) -> None: ...

class UDPServer(_DatagramServer):
    dual_stack: bool | None
    server_address: _AfInetAddress | _AfInet6Address
    def __init__(
        self,
        server_address: _AfInetAddress | _AfInet6Address,
        RequestHandlerClass: Callable[[Any, _RetAddress, Self], BaseRequestHandler],
        bind_and_activate: bool = True,
    ) -> None: ...

if sys.platform != "win32":
    class UnixStreamServer(_StreamServer):
        socket_mode: int | None
        server_address: _AfUnixAddress
        def __init__(
            self,
            server_address: _AfUnixAddress,
            RequestHandlerClass: Callable[[Any, _RetAddress, Self], BaseRequestHandler],
            bind_and_activate: bool = True,
        ) -> None: ...

    class UnixDatagramServer(_DatagramServer):
        socket_mode: int | None
        server_address: _AfUnixAddress
        def __init__(
            self,
            server_address: _AfUnixAddress,
            RequestHandlerClass: Callable[[Any, _RetAddress, Self], BaseRequestHandler],
            bind_and_activate: bool = True,
        ) -> None: ...

    class ForkingMixIn(_mixins.ForkingMixIn[Any, Any]):
        timeout: float | None
        active_children: set[int] | None
        max_children: int
        block_on_close: bool
        def collect_children(self, *, blocking: bool = False) -> None: ...
        def handle_timeout(self) -> None: ...
        def service_actions(self) -> None: ...
        def process_request(self, request: _RequestType, client_address: _RetAddress) -> None: ...
        def server_close(self) -> None: ...

class ThreadingMixIn(_mixins.ThreadingMixIn[Any, Any]):
    daemon_threads: bool
    block_on_close: bool
    def process_request_thread(
        self, request: _RequestType, client_address: _RetAddress
    ) -> None: ...
    def process_request(self, request: _RequestType, client_address: _RetAddress) -> None: ...
    def server_close(self) -> None: ...

if sys.platform != "win32":
    class ForkingTCPServer(ForkingMixIn, TCPServer): ...
    class ForkingUDPServer(ForkingMixIn, UDPServer): ...
    if sys.version_info >= (3, 12):
        class ForkingUnixStreamServer(ForkingMixIn, UnixStreamServer): ...
        class ForkingUnixDatagramServer(ForkingMixIn, UnixDatagramServer): ...

class ThreadingTCPServer(ThreadingMixIn, TCPServer): ...
class ThreadingUDPServer(ThreadingMixIn, UDPServer): ...

if sys.platform != "win32":
    class ThreadingUnixStreamServer(ThreadingMixIn, UnixStreamServer): ...
    class ThreadingUnixDatagramServer(ThreadingMixIn, UnixDatagramServer): ...

class BaseRequestHandler(_core.BaseRequestHandler[Any, BaseServer, Any]):
    # typeshed types the request as Any on purpose (typeshed PR #384): a
    # union would make every handler narrow it first.
    request: Any
    client_address: _RetAddress
    server: BaseServer
    def __init__(
        self, request: _RequestType, client_address: _RetAddress, server: BaseServer
    ) -> None: ...
    def setup(self) -> None: ...
    def handle(self) -> None: ...
    def finish(self) -> None: ...

class StreamRequestHandler(_core.StreamRequestHandler[BaseServer, Any], BaseRequestHandler):
    rbufsize: ClassVar[int]
    wbufsize: ClassVar[int]
    timeout: ClassVar[float | None]
    disable_nagle_algorithm: ClassVar[bool]
    request: Any
    connection: Any
    rfile: BufferedIOBase
    wfile: BufferedIOBase
    def __init__(
        self, request: _RequestType, client_address: _RetAddress, server: BaseServer
    ) -> None: ...

class DatagramRequestHandler(_core.DatagramRequestHandler[BaseServer, Any], BaseRequestHandler):
    request: Any
    packet: bytes
    socket: _socket
    rfile: BufferedIOBase  # type: ignore[assignment]  # a BytesIO, as typeshed types it
    wfile: BufferedIOBase  # type: ignore[assignment]
    def __init__(
        self, request: _RequestType, client_address: _RetAddress, server: BaseServer
    ) -> None: ...
