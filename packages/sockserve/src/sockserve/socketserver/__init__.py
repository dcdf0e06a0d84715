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

from ._classes import __all__ as __all__

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without loading typing (see sockserve.core._types)
if TYPE_CHECKING:
    from ._typeshed_view import *  # noqa: F403
else:
    from ._classes import *  # noqa: F403
