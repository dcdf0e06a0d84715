"""The monorepo's packaging rules, checked on every package's pyproject.toml."""

from __future__ import annotations

import re
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = sorted(p for p in (ROOT / "packages").iterdir() if (p / "pyproject.toml").exists())
CORE = "sockserve-core"
#: The batteries-included distribution may depend on every piece; no other may.
UMBRELLA = "sockserve"
#: The umbrella ships the drop-in and the ready-made combinations of the pieces;
#: every other distribution ships its namesake.
UMBRELLA_SUBPACKAGES = ("socketserver", "servers", "command")
#: ``python -m sockserve``: the one module the umbrella ships beside its subpackages.
UMBRELLA_MODULES = ("__main__.py",)


def project(folder: Path) -> dict[str, Any]:
    with (folder / "pyproject.toml").open("rb") as f:
        table: dict[str, Any] = tomllib.load(f)["project"]
    return table


def subpackages_of(folder: Path) -> tuple[str, ...]:
    name: str = project(folder)["name"]
    if name == UMBRELLA:
        return UMBRELLA_SUBPACKAGES
    return (name.removeprefix("sockserve-").replace("-", "_"),)


def sibling_requirements(folder: Path) -> dict[str, str]:
    names = {project(p)["name"] for p in PACKAGES}
    found = {}
    for requirement in project(folder).get("dependencies", []):
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*(.*)", requirement)
        assert match, requirement
        if match.group(1) in names:
            found[match.group(1)] = match.group(2)
    return found


def test_every_expected_package_exists() -> None:
    folders = {p.name for p in PACKAGES}
    assert {"core", "inet", "unix", "mixins", "trio-backend", "sockserve"} <= folders


def test_one_version_for_all() -> None:
    versions = {project(p)["name"]: project(p)["version"] for p in PACKAGES}
    assert len(set(versions.values())) == 1, versions


@pytest.mark.parametrize("folder", PACKAGES, ids=lambda p: p.name)
def test_siblings_are_core_only_and_pinned_exactly(folder: Path) -> None:
    version = project(folder)["version"]
    siblings = sibling_requirements(folder)
    if project(folder)["name"] != UMBRELLA:
        assert set(siblings) <= {CORE}, f"{folder.name} depends on {sorted(siblings)}"
    for name, spec in siblings.items():
        assert spec == f"=={version}", f"{folder.name}: {name}{spec} is not pinned to {version}"


@pytest.mark.parametrize("folder", PACKAGES, ids=lambda p: p.name)
def test_namespace_package_layout(folder: Path) -> None:
    name = project(folder)["name"]
    assert name.startswith("sockserve")
    namespace = folder / "src" / "sockserve"
    assert not (namespace / "__init__.py").exists(), "sockserve must stay a PEP 420 namespace"
    subpackages = sorted(p for p in namespace.iterdir() if p.is_dir() and p.name != "__pycache__")
    assert [p.name for p in subpackages] == sorted(subpackages_of(folder))
    assert all((p / "py.typed").exists() for p in subpackages)
    assert (folder / "README.md").exists()
    assert project(folder)["readme"] == "README.md"


@pytest.mark.parametrize("folder", PACKAGES, ids=lambda p: p.name)
def test_no_package_imports_the_stdlib_socketserver(folder: Path) -> None:
    pattern = re.compile(r"^\s*(import\s+socketserver\b|from\s+socketserver\s+import)", re.M)
    offenders = [
        str(path.relative_to(ROOT))
        for path in (folder / "src").rglob("*.py")
        if pattern.search(path.read_text())
    ]
    assert not offenders


@pytest.mark.parametrize("folder", PACKAGES, ids=lambda p: p.name)
def test_the_wheel_holds_only_its_own_subpackage(folder: Path, tmp_path: Path) -> None:
    from hatchling.builders.wheel import WheelBuilder

    (wheel,) = WheelBuilder(str(folder)).build(directory=str(tmp_path), versions=["standard"])
    names = zipfile.ZipFile(wheel).namelist()
    code = [n for n in names if ".dist-info/" not in n]
    subpackages = subpackages_of(folder)
    assert code, "the wheel holds no code"
    modules = UMBRELLA_MODULES if project(folder)["name"] == UMBRELLA else ()
    allowed = [["sockserve", s] for s in (*subpackages, *modules)]
    assert all(n.split("/")[:2] in allowed for n in code), code
    assert all(f"sockserve/{s}/py.typed" in code for s in subpackages)
    assert "sockserve/__init__.py" not in names
