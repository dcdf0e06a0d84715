# mypy: allow-subclassing-any
"""The stdlib modules built on ``socketserver`` work unchanged over the drop-in.

Each test gets fresh copies of ``http.server``, ``xmlrpc.server``,
``wsgiref.simple_server`` and ``logging.config`` imported while
``sys.modules["socketserver"]`` is ``sockserve.socketserver`` (the ``stdlib``
fixture), checks that their servers really are sockserve's classes, and drives
them with a real client on 127.0.0.1. Afterwards ``sys.modules`` (and the
parent packages' attributes) are exactly as before, so every other test sees
the real stdlib.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import http.server
import importlib
import json
import logging
import logging.config
import os
import shutil
import socket
import socketserver
import struct
import subprocess
import sys
import threading
import urllib.error
import urllib.request
import wsgiref.simple_server
import xmlrpc.client
import xmlrpc.server
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

import pytest

import sockserve.inet
import sockserve.mixins
import sockserve.socketserver
from tests.conftest import WAIT

#: The ``serve`` fixture of tests/conftest.py: ``serve(server, poll_interval)``.
Serve = Callable[..., threading.Thread]

HOST = "127.0.0.1"

#: The stdlib modules that build on socketserver, imported afresh over the drop-in.
DEPENDENTS = ("http.server", "xmlrpc.server", "wsgiref.simple_server", "logging.config")

#: urllib without any proxy from the environment: every request here is to loopback.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))

#: The real stdlib modules, bound now: inside a swap ``http.server`` means the fresh copy.
REAL_HTTP_SERVER = http.server
REAL_LOGGING_CONFIG = logging.config
REAL_XMLRPC_SERVER = xmlrpc.server
REAL_WSGIREF_SIMPLE_SERVER = wsgiref.simple_server

FILE_BYTES = b"hello from sockserve\n\x00\xff binary tail"


@dataclass(frozen=True)
class StdlibOnSockserve:
    """Fresh copies of the dependent stdlib modules, built on ``sockserve.socketserver``.

    Typed Any: mypy cannot follow modules imported at run time, only their real twins.
    """

    http_server: Any
    xmlrpc_server: Any
    wsgiref_simple_server: Any
    logging_config: Any


def _derives_from_stdlib_socketserver(value: object) -> bool:
    if value is socketserver:
        return True
    return isinstance(value, type) and any(
        getattr(base, "__module__", None) == "socketserver" for base in value.__mro__
    )


def _stdlib_modules_using_socketserver() -> set[str]:
    """Name every loaded stdlib module holding socketserver or a class built on it.

    Catches indirect users too: ``wsgiref.simple_server`` holds ``HTTPServer``,
    whose bases include ``socketserver.TCPServer``.
    """
    found = set()
    for name, module in list(sys.modules.items()):
        if name == "socketserver" or name.partition(".")[0] not in sys.stdlib_module_names:
            continue
        if any(_derives_from_stdlib_socketserver(v) for v in list(vars(module).values())):
            found.add(name)
    return found


def _restore_modules(before: dict[str, ModuleType]) -> None:
    """Make ``sys.modules`` equal ``before`` again, parent packages' attributes included."""
    during = dict(sys.modules)
    touched = {n for n in during if before.get(n) is not during[n]} | (before.keys() - during)
    for name in during.keys() - before.keys():
        del sys.modules[name]
    sys.modules.update(before)
    for name in touched:
        parent_name, _, child = name.rpartition(".")
        parent = before.get(parent_name)
        if parent is None:
            continue
        if name in before:
            setattr(parent, child, before[name])
        elif name in during and getattr(parent, child, None) is during[name]:
            delattr(parent, child)


@contextlib.contextmanager
def stdlib_on_sockserve() -> Iterator[StdlibOnSockserve]:
    """Import the dependent stdlib modules afresh with ``socketserver`` = the drop-in.

    The real modules are imported first, so that their own dependencies (which
    do not use socketserver: ``http.client``, ``pydoc``...) are already loaded
    and shared; only modules built on socketserver are swapped. On exit
    ``sys.modules`` is restored exactly.
    """
    for name in DEPENDENTS:
        importlib.import_module(name)
    before = dict(sys.modules)
    try:
        for name in _stdlib_modules_using_socketserver() | set(DEPENDENTS):
            sys.modules.pop(name, None)
        sys.modules["socketserver"] = sockserve.socketserver
        fresh = [importlib.import_module(name) for name in DEPENDENTS]
        for module in fresh:
            assert module is not before[module.__name__]
        yield StdlibOnSockserve(*fresh)
    finally:
        _restore_modules(before)


@pytest.fixture
def stdlib() -> Iterator[StdlibOnSockserve]:
    with stdlib_on_sockserve() as modules:
        yield modules


def url(server: Any, path: str = "/") -> str:
    return f"http://{HOST}:{server.server_address[1]}{path}"


def fetch(address: str, data: bytes | None = None) -> tuple[int, bytes]:
    """GET (or POST ``data`` to) ``address``; return the status and the body."""
    with OPENER.open(address, data=data, timeout=WAIT) as response:
        return response.status, response.read()


def fetch_error(address: str) -> int:
    """Request ``address``, which must fail with an HTTP error; return its status."""
    with pytest.raises(urllib.error.HTTPError) as info:
        fetch(address)
    with info.value:  # it holds the response, socket included
        return info.value.code


class Curl(Protocol):
    def __call__(self, *args: str, stdin: bytes = ...) -> bytes: ...


@pytest.fixture
def curl() -> Curl:
    """``curl(*args, stdin=b"")``: run curl, assert it succeeded, return its output.

    Skips the test if curl is missing.
    """
    executable = shutil.which("curl")
    if executable is None:
        pytest.skip("curl is not installed (CI installs it with apt-get install curl)")

    def run(*args: str, stdin: bytes = b"") -> bytes:
        argv = [executable, "-s", "-S", "--max-time", str(int(WAIT)), "--noproxy", "*", *args]
        done = subprocess.run(argv, input=stdin, capture_output=True, timeout=2 * WAIT)
        assert done.returncode == 0, done.stderr
        return done.stdout

    return run


class BoundedTransport(xmlrpc.client.Transport):
    """An XML-RPC transport whose connections time out after `WAIT` seconds."""

    def make_connection(self, host: Any) -> http.client.HTTPConnection:
        connection = super().make_connection(host)
        connection.timeout = WAIT
        return connection


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "file.bin").write_bytes(FILE_BYTES)
    return tmp_path


def file_server(stdlib: StdlibOnSockserve, site: Path, cls: Any = None, handler: Any = None) -> Any:
    hs = stdlib.http_server
    handler = functools.partial(handler or hs.SimpleHTTPRequestHandler, directory=str(site))
    return (cls or hs.HTTPServer)((HOST, 0), handler)


# -- the fixture itself -----------------------------------------------------------------------


def test_the_swap_builds_on_sockserve_and_is_undone() -> None:
    before = dict(sys.modules)
    with stdlib_on_sockserve() as modules:
        assert sys.modules["socketserver"] is sockserve.socketserver
        assert modules.http_server.socketserver is sockserve.socketserver
        assert sys.modules["http.server"] is modules.http_server is not REAL_HTTP_SERVER
        assert http.server is modules.http_server  # the package attribute follows
    assert sys.modules == before
    assert http.server is REAL_HTTP_SERVER
    assert logging.config is REAL_LOGGING_CONFIG
    assert xmlrpc.server is REAL_XMLRPC_SERVER
    assert wsgiref.simple_server is REAL_WSGIREF_SIMPLE_SERVER
    assert issubclass(http.server.HTTPServer, socketserver.TCPServer)
    assert not issubclass(http.server.HTTPServer, sockserve.inet.TCPServer)


# -- http.server -------------------------------------------------------------------------------


def test_http_server_serves_files(stdlib: StdlibOnSockserve, serve: Serve, site: Path) -> None:
    hs = stdlib.http_server
    assert issubclass(hs.HTTPServer, sockserve.inet.TCPServer)
    assert issubclass(hs.SimpleHTTPRequestHandler, sockserve.socketserver.StreamRequestHandler)
    server = file_server(stdlib, site)
    serve(server)
    assert server.server_port == server.server_address[1] != 0
    assert server.server_name == socket.getfqdn(HOST)
    assert fetch(url(server, "/file.bin")) == (200, FILE_BYTES)
    assert fetch_error(url(server, "/missing.bin")) == 404


def test_threading_http_server_keeps_two_connections_alive_at_once(
    stdlib: StdlibOnSockserve, serve: Serve, site: Path
) -> None:
    hs = stdlib.http_server
    assert issubclass(hs.ThreadingHTTPServer, sockserve.mixins.ThreadingMixIn)

    base: Any = hs.SimpleHTTPRequestHandler

    class KeepAlive(base):
        protocol_version = "HTTP/1.1"

    server = file_server(stdlib, site, hs.ThreadingHTTPServer, KeepAlive)
    assert server.daemon_threads is True
    serve(server)
    with contextlib.ExitStack() as stack:
        clients = [
            stack.enter_context(
                contextlib.closing(
                    http.client.HTTPConnection(HOST, server.server_port, timeout=WAIT)
                )
            )
            for _ in range(2)
        ]
        sockets: list[list[object]] = [[], []]
        # Interleaved: a server handling one connection at a time would stall
        # on the second client while the first one's connection stays open.
        for _ in range(3):
            for client, seen in zip(clients, sockets, strict=True):
                client.request("GET", "/file.bin")
                response = client.getresponse()
                assert (response.status, response.read()) == (200, FILE_BYTES)
                seen.append(client.sock)
    for seen in sockets:
        assert seen[0] is not None
        assert seen == [seen[0]] * 3, "the connection was not kept alive"


def test_curl_gets_a_file(stdlib: StdlibOnSockserve, serve: Serve, site: Path, curl: Curl) -> None:
    server = file_server(stdlib, site)
    assert isinstance(server, sockserve.inet.TCPServer)
    serve(server)
    assert curl(url(server, "/file.bin")) == FILE_BYTES


def test_curl_posts_to_a_handler(stdlib: StdlibOnSockserve, serve: Serve, curl: Curl) -> None:
    base: Any = stdlib.http_server.BaseHTTPRequestHandler

    class Echo(base):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    assert issubclass(Echo, sockserve.socketserver.StreamRequestHandler)
    server = stdlib.http_server.HTTPServer((HOST, 0), Echo)
    serve(server)
    payload = b"line one\nline two\r\n\x00\xff" * 10
    assert curl("--data-binary", "@-", url(server, "/echo"), stdin=payload) == payload


CGI_SCRIPT = f"""#!{sys.executable}
import os, sys
length = int(os.environ.get("CONTENT_LENGTH") or 0)
body = sys.stdin.buffer.read(length) if length else b""
out = sys.stdout.buffer
out.write(b"Content-Type: text/plain\\r\\n\\r\\n")
out.write(b"query=" + os.environ["QUERY_STRING"].encode() + b"\\n")
out.write(b"stdin=" + body + b"\\n")
"""


# Python 3.13 deprecates the CGI handler (warned when a request instantiates it); 3.11 does not.
@pytest.mark.filterwarnings(r"ignore:.*CGIHTTPRequestHandler.*:DeprecationWarning")
@pytest.mark.parametrize("have_fork", [True, False], ids=["fork", "subprocess"])
def test_cgi_handler_runs_a_script(
    stdlib: StdlibOnSockserve, serve: Serve, tmp_path: Path, have_fork: bool
) -> None:
    hs = stdlib.http_server
    if have_fork and not hasattr(os, "fork"):
        pytest.skip("no os.fork on this platform")
    if have_fork and os.geteuid() == 0:
        # As root the forked child setuid()s to "nobody", who cannot run
        # sys.executable here. -1 is what nobody_uid() itself returns without
        # pwd; setuid(-1) fails with EINVAL, which run_cgi ignores.
        hs.nobody = -1
    script = tmp_path / "cgi-bin" / "hello.py"
    script.parent.mkdir()
    script.write_text(CGI_SCRIPT)
    script.chmod(0o755)

    base: Any = hs.CGIHTTPRequestHandler

    class CGI(base):
        pass

    CGI.have_fork = have_fork
    assert CGI.rbufsize == 0
    server = hs.HTTPServer((HOST, 0), functools.partial(CGI, directory=str(tmp_path)))
    assert isinstance(server, sockserve.inet.TCPServer)
    serve(server)
    got = fetch(url(server, "/cgi-bin/hello.py?name=world"))
    assert got == (200, b"query=name=world\nstdin=\n")
    posted = fetch(url(server, "/cgi-bin/hello.py?via=post"), data=b"posted\x00data")
    assert posted == (200, b"query=via=post\nstdin=posted\x00data\n")


# -- xmlrpc.server -----------------------------------------------------------------------------


def nothing() -> None:
    return None


def test_xmlrpc_server_keeps_its_dispatcher_settings(
    stdlib: StdlibOnSockserve, serve: Serve
) -> None:
    xs = stdlib.xmlrpc_server
    assert issubclass(xs.SimpleXMLRPCServer, sockserve.inet.TCPServer)
    server = xs.SimpleXMLRPCServer((HOST, 0), logRequests=False, allow_none=True, encoding="utf-8")
    # TCPServer.__init__ runs after SimpleXMLRPCDispatcher.__init__: it must not reset these.
    assert (server.allow_none, server.encoding, server.logRequests) == (True, "utf-8", False)
    server.register_function(pow)
    server.register_function(nothing)
    server.register_introspection_functions()
    serve(server)
    transport = BoundedTransport()
    with xmlrpc.client.ServerProxy(url(server), transport, allow_none=True) as proxy:
        assert proxy.pow(2, 10) == 1024
        assert proxy.nothing() is None  # marshalled as <nil/> only with allow_none
        methods = proxy.system.listMethods()
        assert isinstance(methods, list)
        assert {"pow", "nothing", "system.listMethods"} <= set(methods)
        with pytest.raises(xmlrpc.client.Fault, match='method "missing" is not supported'):
            proxy.missing()


def test_doc_xmlrpc_server_serves_its_page(stdlib: StdlibOnSockserve, serve: Serve) -> None:
    xs = stdlib.xmlrpc_server
    assert issubclass(xs.DocXMLRPCServer, sockserve.inet.TCPServer)
    server = xs.DocXMLRPCServer((HOST, 0), logRequests=False)
    server.set_server_title("sockserve title")
    server.register_function(pow)
    serve(server)
    status, page = fetch(url(server))
    assert status == 200
    assert b"sockserve title</title>" in page
    assert b"<strong>pow</strong>" in page


# -- wsgiref.simple_server ---------------------------------------------------------------------


def echo_app(environ: dict[str, Any], start_response: Callable[..., object]) -> Iterable[bytes]:
    body = f"{environ['PATH_INFO']}?{environ['QUERY_STRING']}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def test_wsgiref_make_server(stdlib: StdlibOnSockserve, serve: Serve) -> None:
    ss = stdlib.wsgiref_simple_server

    base: Any = ss.WSGIRequestHandler

    class Quiet(base):
        # The request is logged after the client has its reply, so it could
        # land between this test and the next one, on the terminal.
        def log_message(self, format: str, *args: object) -> None:
            pass

    assert issubclass(ss.WSGIServer, sockserve.inet.TCPServer)
    server = ss.make_server(HOST, 0, echo_app, handler_class=Quiet)
    assert type(server) is ss.WSGIServer
    assert server.base_environ["SERVER_PORT"] == str(server.server_address[1]) != "0"
    serve(server)
    assert fetch(url(server, "/some/path?a=1&b=two")) == (200, b"/some/path?a=1&b=two")


def test_wsgiref_handle_request(stdlib: StdlibOnSockserve) -> None:
    ss = stdlib.wsgiref_simple_server
    assert issubclass(ss.WSGIServer, sockserve.inet.TCPServer)
    got: list[tuple[int, bytes]] = []
    with ss.make_server(HOST, 0, echo_app) as server:
        assert type(server) is ss.WSGIServer
        server.timeout = WAIT
        client = threading.Thread(target=lambda: got.append(fetch(url(server, "/one?x"))))
        client.start()
        server.handle_request()
        client.join(WAIT)
    assert got == [(200, b"/one?x")]


# -- logging.config.listen ---------------------------------------------------------------------


@pytest.fixture
def listened_logger() -> Iterator[logging.Logger]:
    """A logger at WARNING, put back at its old level afterwards."""
    logger = logging.getLogger("sockserve.tests.listen")
    saved = logger.level
    logger.setLevel(logging.WARNING)
    yield logger
    logger.setLevel(saved)


def test_logging_config_listen(stdlib: StdlibOnSockserve, listened_logger: logging.Logger) -> None:
    lc = stdlib.logging_config
    assert issubclass(lc.ThreadingTCPServer, sockserve.mixins.ThreadingMixIn)
    config = json.dumps(
        {"version": 1, "incremental": True, "loggers": {listened_logger.name: {"level": "DEBUG"}}}
    ).encode()
    verified: list[bytes] = []

    def verify(data: bytes) -> bytes:
        verified.append(data)
        return data

    thread = lc.listen(0, verify=verify)
    thread.start()
    try:
        assert thread.ready.wait(WAIT)
        thread.ready.clear()  # the handler sets it again once the configuration is applied
        with socket.create_connection((HOST, thread.port), timeout=WAIT) as client:
            client.sendall(struct.pack(">L", len(config)) + config)
        assert thread.ready.wait(WAIT)
        assert isinstance(lc._listener, sockserve.inet.TCPServer)
    finally:
        lc.stopListening()
        thread.join(WAIT)
    assert not thread.is_alive()
    assert verified == [config]
    assert listened_logger.level == logging.DEBUG
