"""Building ``sockbench``, the C load generator and calibration server, on first use."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path

SOURCE = Path(__file__).resolve().parent.parent / "native" / "sockbench.c"
BINARY = SOURCE.parent / "build" / "sockbench"


@functools.cache
def sockbench() -> Path:
    """The path of a ``sockbench`` built from the current source; builds it if stale.

    Checked once per process, so a suite never rebuilds it between two runs.
    Blocks while the compiler runs (about a second).

    Raises:
        RuntimeError: No C compiler (``$CC`` or ``cc``) was found, or it failed.
    """
    if BINARY.exists() and BINARY.stat().st_mtime >= SOURCE.stat().st_mtime:
        return BINARY
    compiler = shutil.which(os.environ.get("CC", "cc"))
    if compiler is None:
        raise RuntimeError("sockbench needs a C compiler: install gcc (benchmarks/setup.sh does)")
    BINARY.parent.mkdir(exist_ok=True)
    command = [compiler, "-O2", "-Wall", "-Wextra", "-o", str(BINARY), str(SOURCE)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"building sockbench failed:\n{done.stderr}")
    return BINARY
