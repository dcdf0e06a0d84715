"""The servers compared: one `Variant` per row of each workload's table.

To add one, append a `Variant` to `VARIANTS`, give it a ``serves`` rule if it
cannot run every workload, and teach `harness.server_main` to start it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from harness.workloads import Workload

Impl = Literal["stdlib", "sockserve", "trio", "asyncio", "uvloop", "native"]
#: ``trio``: sockserve's trio backend with async handlers; ``trio-sync``: with the
#: classic sync handlers in trio worker threads.
Model = Literal[
    "sync", "threading", "pool", "forking", "prefork", "trio", "trio-sync", "async", "epoll"
]


@dataclass(frozen=True)
class Variant:
    """A server implementation under one concurrency model.

    Attributes:
        name: The row label and command-line key.
        impl: Whose code serves: the stdlib, sockserve, trio, asyncio, uvloop, or the C
            calibration server.
        model: How it serves requests concurrently.
        baseline: The variant whose throughput the ratio column divides by, if any.
        every_core: Runs on every CPU instead of the servers' one (prefork's
            workers do; a single process could not use a second core anyway).
    """

    name: str
    impl: Impl
    model: Model
    baseline: str | None
    every_core: bool = False

    def why_not(self, workload: Workload) -> str | None:
        """Why this variant cannot run ``workload``, or ``None`` if it can."""
        socketserver_family = self.impl in ("stdlib", "sockserve")
        cpu_bound = workload.app == "cpu"
        if self.model == "prefork" and not cpu_bound:
            return "runs on every core: compared on the CPU-bound row"
        if cpu_bound and self.model not in ("threading", "pool", "prefork"):
            return "the CPU-bound row compares worker processes with threads"
        if workload.client == "shutdown":
            if not socketserver_family:
                return "shutdown() is socketserver's API"
            return "forking runs sync's serve_forever loop" if self.model == "forking" else None
        if workload.client == "http":
            ok = self.model in ("threading", "pool", "trio-sync") or self.impl == "native"
            return None if ok else "http.server's handlers are sync: see the threading rows"
        if self.model == "sync" and workload.persistent:
            return "serves one connection at a time: the others would wait out the run"
        if self.model == "forking" and workload.scale:
            return "a process per connection: thousands of processes"
        if self.model in ("trio-sync", "pool") and workload.scale:
            return "a thread per connection, as the threading rows"
        return None

    def baseline_for(self, workload: Workload) -> str | None:
        """The variant to divide by in ``workload``: `baseline`, unless that cannot run it.

        Then the stdlib's threading server stands in (raw trio has no
        ``shutdown()`` to compare sockserve's trio backend with).
        """
        if self.baseline is None:
            return None
        if _BY_NAME[self.baseline].why_not(workload) is None:
            return self.baseline
        return FALLBACK_BASELINE


VARIANTS: tuple[Variant, ...] = (
    Variant("stdlib-sync", "stdlib", "sync", None),
    Variant("sockserve-sync", "sockserve", "sync", "stdlib-sync"),
    Variant("stdlib-threading", "stdlib", "threading", None),
    Variant("sockserve-threading", "sockserve", "threading", "stdlib-threading"),
    Variant("sockserve-pool", "sockserve", "pool", "stdlib-threading"),
    Variant("sockserve-prefork", "sockserve", "prefork", "stdlib-threading", every_core=True),
    Variant("stdlib-forking", "stdlib", "forking", None),
    Variant("sockserve-forking", "sockserve", "forking", "stdlib-forking"),
    Variant("sockserve-trio", "sockserve", "trio", "trio"),
    Variant("sockserve-trio-sync", "sockserve", "trio-sync", "stdlib-threading"),
    Variant("trio", "trio", "async", "stdlib-threading"),
    Variant("asyncio", "asyncio", "async", "stdlib-threading"),
    Variant("uvloop", "uvloop", "async", "stdlib-threading"),
    Variant("calibration", "native", "epoll", None),
)


_BY_NAME = {v.name: v for v in VARIANTS}
#: The baseline of a row whose own baseline cannot run the workload.
FALLBACK_BASELINE = "stdlib-threading"


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
    if any(by_name[n].baseline for n in names):
        wanted.add(FALLBACK_BASELINE)
    return tuple(v for v in VARIANTS if v.name in wanted)
