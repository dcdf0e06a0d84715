"""sockserve.mixins: the stdlib's threading and forking mix-ins, typed and fixed.

`ThreadingMixIn` reaps finished threads as they end; `ForkingMixIn` enforces
``max_children`` before forking and waits only for its own children.
"""

from ._forking import ForkingMixIn as ForkingMixIn
from ._threading import ThreadingMixIn as ThreadingMixIn

__all__ = ["ForkingMixIn", "ThreadingMixIn"]
