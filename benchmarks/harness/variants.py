"""The servers compared: one `Variant` per row of each workload's table.

To add one, append a `Variant` to `VARIANTS`, give it a ``serves`` rule if it
cannot run every workload, and teach `harness.server_main` to start it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from harness.workloads import Workload

Impl = Literal["stdlib", "sockserve", "trio", "asyncio", "native"]
Model = Literal["sync", "threading", "forking", "async", "epoll"]


@dataclass(frozen=True)
class Variant:
    """A server implementation under one concurrency model.

    Attributes:
        name: The row label and command-line key.
        impl: Whose code serves: the stdlib, sockserve, trio, asyncio, or the C calibration server.
        model: How it serves requests concurrently.
        baseline: The variant whose throughput the ratio column divides by, if any.
    """

    name: str
    impl: Impl
    model: Model
    baseline: str | None

    def why_not(self, workload: Workload) -> str | None:
        """Why this variant cannot run ``workload``, or ``None`` if it can."""
        socketserver_family = self.impl in ("stdlib", "sockserve")
        if workload.client == "shutdown":
            if not socketserver_family:
                return "shutdown() is socketserver's API"
            return "forking runs sync's serve_forever loop" if self.model == "forking" else None
        if workload.client == "http":
            ok = self.model == "threading" or self.impl == "native"
            return None if ok else "http.server is measured on ThreadingHTTPServer"
        if self.model == "sync" and workload.persistent:
            return "serves one connection at a time: the others would wait out the run"
        if self.model == "forking" and workload.scale:
            return "a process per connection: thousands of processes"
        return None


VARIANTS: tuple[Variant, ...] = (
    Variant("stdlib-sync", "stdlib", "sync", None),
    Variant("sockserve-sync", "sockserve", "sync", "stdlib-sync"),
    Variant("stdlib-threading", "stdlib", "threading", None),
    Variant("sockserve-threading", "sockserve", "threading", "stdlib-threading"),
    Variant("stdlib-forking", "stdlib", "forking", None),
    Variant("sockserve-forking", "sockserve", "forking", "stdlib-forking"),
    Variant("trio", "trio", "async", "stdlib-threading"),
    Variant("asyncio", "asyncio", "async", "stdlib-threading"),
    Variant("calibration", "native", "epoll", None),
)


def select(names: list[str] | None) -> tuple[Variant, ...]:
    """The variants named, in table order, with the baselines they need; all for ``None``.

    Raises:
        ValueError: A name is not a variant's.
    """
    if not names:
        return VARIANTS
    by_name = {v.name: v for v in VARIANTS}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise ValueError(f"unknown variant(s) {unknown}; choose from {list(by_name)}")
    wanted = set(names) | {b for n in names if (b := by_name[n].baseline)}
    return tuple(v for v in VARIANTS if v.name in wanted)
