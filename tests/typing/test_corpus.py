"""The typed-app corpus type-checks the same against the stdlib and the drop-in.

Each program in ``corpus/`` is written with ``import socketserver`` and passes
``mypy --strict`` against typeshed's stubs. Here each is checked twice in one
run, as written and with that line changed to ``from sockserve import
socketserver``: both copies must pass, and every ``reveal_type`` must show
the same type. pyright in strict mode must agree. pyright's ``--verifytypes``
then scores every distribution's package for completeness of its types.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CORPUS = Path(__file__).with_name("corpus")
STDLIB_IMPORT = "import socketserver\n"
DROP_IN_IMPORT = "from sockserve import socketserver\n"
#: Each distribution's package, as ``--verifytypes`` takes it.
PACKAGES = [
    "sockserve.core",
    "sockserve.inet",
    "sockserve.unix",
    "sockserve.mixins",
    "sockserve.trio_backend",
    "sockserve.socketserver",
    "sockserve.servers",
    "sockserve.command",
]
#: pyright fetches its own Node.js package on first use; that can take a while.
PYRIGHT_TIMEOUT = 600
VARIANTS = ("stdlib", "dropin")
PYTHON_VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"


def corpus_programs() -> list[Path]:
    programs = sorted(CORPUS.glob("*.py"))
    assert len(programs) >= 12, "the corpus is missing"
    return programs


@pytest.fixture(scope="module")
def variants(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both copies of each program, ``stdlib_<name>.py`` and ``dropin_<name>.py``, in one folder."""
    folder = tmp_path_factory.mktemp("corpus")
    for program in corpus_programs():
        text = program.read_text()
        assert text.count(STDLIB_IMPORT) == 1, f"{program.name} must import socketserver once"
        (folder / f"stdlib_{program.name}").write_text(text)
        (folder / f"dropin_{program.name}").write_text(text.replace(STDLIB_IMPORT, DROP_IN_IMPORT))
    (folder / "mypy.ini").write_text("[mypy]\nstrict = True\nwarn_unreachable = True\n")
    (folder / "pyrightconfig.json").write_text(
        json.dumps({"typeCheckingMode": "strict", "pythonVersion": PYTHON_VERSION})
    )
    return folder


def by_variant(findings: Iterator[tuple[str, str]]) -> dict[str, list[str]]:
    """Findings (``(file name, rest)``) split by variant, each under its program's name."""
    split: dict[str, list[str]] = {variant: [] for variant in VARIANTS}
    for name, rest in findings:
        variant, _, program = name.partition("_")
        split[variant].append(f"{program}:{rest}")
    return {variant: sorted(found) for variant, found in split.items()}


def drop_in_module_names(text: str) -> str:
    """Name the drop-in's classes as the stdlib's, and each copy's as the program's."""
    text = re.sub(r"sockserve\.socketserver\._typeshed_view\.", "socketserver.", text)
    return re.sub(r"\b(?:stdlib|dropin)_(\w+)\.", r"\1.", text)


def test_mypy_sees_the_same_types(variants: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", "mypy.ini", "--cache-dir", ".cache", "."],
        cwd=variants,
        capture_output=True,
        text=True,
        timeout=PYRIGHT_TIMEOUT,
    )
    lines = run.stdout.splitlines()
    assert run.returncode == 0, run.stdout + run.stderr
    assert lines[-1].startswith("Success"), lines[-1]
    notes = (
        (name, drop_in_module_names(rest))
        for name, rest in (line.split(":", 1) for line in lines[:-1])
    )
    split = by_variant(notes)
    assert len(split["stdlib"]) >= 60, "the corpus reveals too few types to prove anything"
    assert split["dropin"] == split["stdlib"]


def run_pyright(*arguments: str, cwd: Path) -> dict[str, Any]:
    """pyright's JSON report, run where it finds the packages: this environment."""
    bin_dir = os.path.dirname(sys.executable)
    pyright = shutil.which("pyright", path=bin_dir)
    assert pyright is not None, "pyright is not installed in this environment"
    run = subprocess.run(
        [pyright, "--outputjson", *arguments],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=PYRIGHT_TIMEOUT,
        env={
            **os.environ,
            "VIRTUAL_ENV": sys.prefix,
            "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
        },
    )
    report: dict[str, Any] = json.loads(run.stdout)
    return report


def test_pyright_strict_agrees(variants: Path) -> None:
    report = run_pyright(".", cwd=variants)
    problems = [d for d in report["generalDiagnostics"] if d["severity"] != "information"]
    assert problems == [], json.dumps(problems, indent=1)
    revealed = (
        (
            Path(d["file"]).name,
            f"{d['range']['start']['line']}: {drop_in_module_names(d['message'])}",
        )
        for d in report["generalDiagnostics"]
    )
    split = by_variant(revealed)
    assert len(split["stdlib"]) >= 60
    assert split["dropin"] == split["stdlib"]


@pytest.mark.parametrize("package", PACKAGES)
def test_verifytypes_scores_full_marks(package: str, tmp_path: Path) -> None:
    report = run_pyright("--verifytypes", package, "--ignoreexternal", cwd=tmp_path)
    completeness = report["typeCompleteness"]
    exported = completeness["exportedSymbolCounts"]
    assert exported["withKnownType"] > 0, f"{package} was not found: {report}"
    problems = [d["message"] for d in report["generalDiagnostics"] if d["severity"] == "error"]
    assert completeness["completenessScore"] == 1.0, "\n".join(problems)
