"""sockserve-trio-backend is an installable shell until the trio backend lands.

These run in the solo matrix with only core and this package installed: they
prove the distribution installs and imports with its declared dependencies.
"""

from __future__ import annotations

import importlib.resources

import sockserve.trio_backend


def test_it_imports_as_part_of_the_sockserve_namespace() -> None:
    assert sockserve.trio_backend.__name__ == "sockserve.trio_backend"
    assert "not yet built" in (sockserve.trio_backend.__doc__ or "").lower()


def test_it_ships_py_typed() -> None:
    assert importlib.resources.files("sockserve.trio_backend").joinpath("py.typed").is_file()
