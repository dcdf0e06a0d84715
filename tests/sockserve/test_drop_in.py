"""The drop-in has the stdlib's public names, and each predefined class behaves as its twin."""

from __future__ import annotations

import json
import os
import socket
import socketserver as stdlib
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

import sockserve.socketserver as drop_in

WAIT = 10.0


def test_all_is_the_stdlib_all() -> None:
    assert sorted(drop_in.__all__) == sorted(stdlib.__all__)


def test_every_name_in_all_exists_and_comes_from_sockserve() -> None:
    for name in drop_in.__all__:
        value = getattr(drop_in, name)
        assert value.__module__.startswith("sockserve."), (name, value.__module__)
        assert value is not getattr(stdlib, name)


def test_every_public_sockserve_name_is_in_all() -> None:
    # CPython's test_all, with sockserve's module names in place of "socketserver".
    public = {
        name
        for name in dir(drop_in)
        if not name.startswith("_")
        and getattr(getattr(drop_in, name), "__module__", "").startswith("sockserve.")
    }
    assert public == set(drop_in.__all__)


SERVER_CLASSES = sorted(
    name for name in stdlib.__all__ if name.endswith("Server") and name != "BaseServer"
)


@pytest.mark.parametrize("name", SERVER_CLASSES)
def test_the_class_tree_keeps_its_mixin(name: str) -> None:
    ours, theirs = getattr(drop_in, name), getattr(stdlib, name)
    for mixin in ("ThreadingMixIn", "ForkingMixIn"):
        if hasattr(stdlib, mixin):
            assert issubclass(ours, getattr(drop_in, mixin)) == issubclass(
                theirs, getattr(stdlib, mixin)
            )
    assert ours.socket_type == theirs.socket_type
    assert ours.address_family == theirs.address_family


def is_datagram(cls: type[Any]) -> bool:
    return bool(cls.socket_type == socket.SOCK_DGRAM)


def handler_for(module: ModuleType, cls: type[Any]) -> type[Any]:
    if is_datagram(cls):

        class DatagramEcho(module.DatagramRequestHandler):  # type: ignore[misc, name-defined]
            def handle(self) -> None:
                self.wfile.write(b"echo:" + self.rfile.read())

        return DatagramEcho

    class StreamEcho(module.StreamRequestHandler):  # type: ignore[misc, name-defined]
        def handle(self) -> None:
            self.wfile.write(b"echo:" + self.rfile.readline())

    return StreamEcho


@pytest.fixture
def short_dir() -> Iterator[str]:
    path = tempfile.mkdtemp(prefix="ss-")
    try:
        yield path
    finally:
        for entry in os.listdir(path):
            os.unlink(os.path.join(path, entry))
        os.rmdir(path)


def address_for(cls: type[Any], directory: str, tag: str) -> Any:
    if cls.address_family == socket.AF_UNIX:
        return os.path.join(directory, f"{tag}.sock")
    return ("127.0.0.1", 0)


def exchange(cls: type[Any], address: Any, directory: str, tag: str) -> bytes:
    kind = socket.SOCK_DGRAM if is_datagram(cls) else socket.SOCK_STREAM
    with socket.socket(cls.address_family, kind) as client:
        client.settimeout(WAIT)
        if is_datagram(cls):
            if cls.address_family == socket.AF_UNIX:
                client.bind(os.path.join(directory, f"client-{tag}.sock"))
            client.sendto(b"ping\n", address)
            return client.recv(64)
        client.connect(address)
        client.sendall(b"ping\n")
        return client.recv(64)


def run_once(module: ModuleType, name: str, directory: str) -> bytes:
    cls = getattr(module, name)
    with cls(address_for(cls, directory, module.__name__), handler_for(module, cls)) as server:
        thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
        thread.start()
        try:
            return exchange(cls, server.server_address, directory, module.__name__)
        finally:
            server.shutdown()
            thread.join(WAIT)


@pytest.mark.parametrize("name", SERVER_CLASSES)
def test_each_predefined_class_echoes_like_its_stdlib_twin(name: str, short_dir: str) -> None:
    theirs = run_once(stdlib, name, short_dir)
    ours = run_once(drop_in, name, short_dir)
    assert theirs == b"echo:ping\n"
    assert ours == theirs


FOOTPRINT = """
import json, socketserver, sys
before = set(sys.modules)
from sockserve import socketserver as drop_in
for name in sys.argv[1:]:
    getattr(drop_in, name)
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def modules_loaded_naming(*names: str) -> list[str]:
    """The modules a fresh interpreter loads, past the stdlib's socketserver, to get ``names``."""
    done = subprocess.run(
        [sys.executable, "-c", FOOTPRINT, *names],
        capture_output=True,
        text=True,
        check=True,
        timeout=WAIT,
    )
    loaded: list[str] = json.loads(done.stdout)
    return loaded


def test_a_tcp_program_loads_no_module_beyond_the_stdlibs_but_sockserves() -> None:
    # Every module loaded is memory each child of a forking server copies.
    loaded = modules_loaded_naming("ForkingTCPServer", "ThreadingTCPServer", "StreamRequestHandler")
    others = {name for name in loaded if name.partition(".")[0] != "sockserve"}
    assert others == {"__future__"}  # what `from __future__ import annotations` imports
    assert not [name for name in loaded if name.startswith("sockserve.unix")]


def test_the_unix_classes_load_when_first_named() -> None:
    assert "sockserve.unix" in modules_loaded_naming("UnixStreamServer")
