"""sockserve.mixins: the stdlib's threading and forking mix-ins, typed and fixed, and a pool.

`ThreadingMixIn` reaps finished threads as they end; `ForkingMixIn` enforces
``max_children`` before forking and waits only for its own children;
`ThreadPoolMixIn` serves on a bounded pool of threads, taking no request
while every one is busy; `Prefork` runs any server in supervised worker
processes.
"""

from collections.abc import Callable

from sockserve.core import lazy_attributes

from ._forking import ForkingMixIn as ForkingMixIn
from ._threading import ThreadingMixIn as ThreadingMixIn

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without loading typing (see sockserve.core._types)
if TYPE_CHECKING:
    from ._pool import DEFAULT_POOL_SIZE as DEFAULT_POOL_SIZE
    from ._pool import ThreadPoolMixIn as ThreadPoolMixIn
    from ._prefork import Prefork as Prefork

# Loaded on first use: the drop-in imports this package for its two stdlib
# mix-ins, and every module loaded here is memory a forked child copies.
__getattr__: Callable[[str], object] = lazy_attributes(
    __name__,
    {"DEFAULT_POOL_SIZE": "._pool", "ThreadPoolMixIn": "._pool", "Prefork": "._prefork"},
)


__all__ = ["DEFAULT_POOL_SIZE", "ForkingMixIn", "Prefork", "ThreadPoolMixIn", "ThreadingMixIn"]
