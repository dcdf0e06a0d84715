"""Names a package exports but loads on first use: every module loaded is memory a fork copies."""

from __future__ import annotations

from collections.abc import Callable, Mapping

__all__ = ["lazy_attributes"]


def lazy_attributes(package: str, names: Mapping[str, str]) -> Callable[[str], object]:
    """A module ``__getattr__`` (PEP 562) that imports each of ``names`` on first use.

    Args:
        package: The package's ``__name__``.
        names: Each lazy name, to the submodule that defines it
            (``"._pool"``), or to ``"._module:attribute"`` when it is
            exported under another name.
    """

    def lazy_attribute(name: str) -> object:
        where = names.get(name)
        if where is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, _, attribute = where.partition(":")
        # __import__, not importlib.import_module: importlib loads warnings, and
        # every module loaded is memory that a forked child copies.
        absolute = package + module if module.startswith(".") else module
        return getattr(__import__(absolute, fromlist=("*",)), attribute or name)

    return lazy_attribute
