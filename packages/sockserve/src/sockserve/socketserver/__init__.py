"""A drop-in for the stdlib's ``socketserver``, assembled from the sockserve packages.

``from sockserve import socketserver`` gives the same public names as the
stdlib module of this Python (the same ``__all__``), built from sockserve's
own classes: the behaviour is the stdlib's except where sockserve fixes it
(see the project README).

Type checkers see typeshed's types for them (``_typeshed_view.pyi``): a
program that type-checks with ``import socketserver`` type-checks unchanged
with ``from sockserve import socketserver``. Code written for sockserve gets
precise, parametrised types from ``sockserve.core``, ``sockserve.inet``,
``sockserve.unix`` and ``sockserve.mixins`` instead.
"""

from sockserve.core import lazy_attributes as _lazy_attributes

from . import _classes
from ._classes import UNIX_NAMES as _UNIX_NAMES

__all__ = [*_classes.__all__, *_UNIX_NAMES]

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without loading typing (see sockserve.core._types)
if TYPE_CHECKING:
    from ._typeshed_view import *  # noqa: F403
else:
    from ._classes import *  # noqa: F403

    # The Unix classes load on first use: see _classes.UNIX_NAMES.
    __getattr__ = _lazy_attributes(__name__, dict.fromkeys(_UNIX_NAMES, "._unix_classes"))


def __dir__() -> list[str]:
    """The module's names, the Unix classes included before they load (as the stdlib's)."""
    return sorted({*globals(), *__all__})
